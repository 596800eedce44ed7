"""Generation backends. One interface: `generate(list[Request]) -> list[Completion]`.

See `base.py` for the protocol and `load_backend` for choosing one by name.
"""
