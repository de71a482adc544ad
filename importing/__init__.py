"""Batch intake from spreadsheets (.xlsx) and CSV: the rows of a forum or a visit, filed as
cases through the one intake (``cases.intake.file_case``); the reading of the files is shared
with the knowledge base's article import."""
