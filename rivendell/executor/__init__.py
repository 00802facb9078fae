"""Running interview code: the executor seam and the languages it knows."""
