"""Layer 4, experiments: the field-path language, executors, batch, sensitivity, tuning, calibration, validation."""
