"""Data package: the check definitions (YAML). No code lives here."""
