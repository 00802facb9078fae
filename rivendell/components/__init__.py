"""Reusable UI: the Monaco editor, resizable panels, the heartbeat."""
