"""Data package: the control catalogue and the profiles (YAML). No code lives here."""
