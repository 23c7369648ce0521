"""Evidence: collectors (this host) and importers (config exports).

Both produce `auditor-evidence/1` bundles through :class:`BundleBuilder`; neither
ever evaluates a check. The engine reads bundles only.
"""
