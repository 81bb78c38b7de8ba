"""Reading and cleaning: a sales file in, a checked long frame and its report out.

The columns and what they mean, dates and numbers in the file's own writing, the
frequency, gaps and outliers, the ladder step of each series, and what is never a
driver. Imports nothing of the library above it.
"""
