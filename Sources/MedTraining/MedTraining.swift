// MedTraining: filled by its own issue.
