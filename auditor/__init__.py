"""Policy-compliance auditor for Japanese local governments' information security."""

__version__ = "0.1.0"
