// MedMNISTData: filled by its own issue.
