// MedLayers: filled by its own issue.
