"""The audit area's permissions. Reading the ledger is the model's view permission (every
read-everything role holds audit.view_*); exporting and retention are granted separately."""

VIEW = "audit.view_ledgerentry"
EXPORT = "audit.export_ledger"
MANAGE_RETENTION = "audit.manage_retention"
