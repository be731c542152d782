"""Metrics (RWS, recall), evaluation tables, timing, the reproduction report, embeddings."""
