"""Parsers for the raw files ``collect-windows.ps1`` writes, one module per kind of output.

The formats the project already reads elsewhere keep their own parsers and are reused as
they are: ``secedit.inf`` (:mod:`..secedit`), ``net-accounts.txt`` (:mod:`..net_accounts`),
``hotfix.csv`` (:mod:`..hotfix`), ``auditpol.csv`` (:mod:`..auditpol`). This package holds
the new ones: the collection itself (folder or zip, and its manifest), PowerShell's JSON,
registry snapshots, and the outputs of the cmdlets and tools that feed the endpoint areas.
:mod:`auditor.evidence.importers.windows_raw` puts them together into one bundle.
"""
