"""Data sources: simulated 1-D classes, synthetic galaxy images, Galaxy Zoo and user folders."""
