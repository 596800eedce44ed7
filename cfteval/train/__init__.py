"""CFT/SFT training: data, masking, the trainer, checkpoint selection and its benchmark."""
