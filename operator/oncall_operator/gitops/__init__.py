"""GitOps safety from the command line: `validate` (offline), `plan` (read-only) and `import`."""
