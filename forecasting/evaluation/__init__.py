"""Evaluation and selection: rolling-origin folds, scores, tuning, the choice of what
serves each series, the drivers that earn their place, and the bands.
"""
