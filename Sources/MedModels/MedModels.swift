// MedModels: filled by its own issue.
