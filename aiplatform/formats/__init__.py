"""Date and time formats per language (issue 16), found through FORMAT_MODULE_PATH.

Templates name a format ("DATE_FORMAT", "SHORT_DATETIME_FORMAT") instead of spelling
one out, so a Korean page reads "2026년 12월 4일" and an English one "Dec 4, 2026".
Times are 24-hour in both. Names not given here fall back to Django's own locale
formats (input formats, number separators)."""
