"""`cfteval cft-data`: Critique Fine-Tuning data whose critiques are checked against the gold.

questions.py reads questions with gold answers; config.py holds what the user asked for;
pipeline.py samples noisy solutions, grades them, asks a teacher to critique them and writes
the rows (records.py holds a solution's and a critique's records); verify.py is the rule that compares each critique's conclusion with the grader;
balance.py sets the share of critiques of wrong solutions; output.py writes the data set and
its manifest.
"""
