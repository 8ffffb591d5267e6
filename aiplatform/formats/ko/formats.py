DATE_FORMAT = "Y년 n월 j일"
DATETIME_FORMAT = "Y년 n월 j일 H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "n월 j일"
YEAR_MONTH_FORMAT = "Y년 n월"
SHORT_DATE_FORMAT = "Y-m-d"
# The day and time of something recent (a message, an order): no year.
SHORT_DATETIME_FORMAT = "n월 j일 H:i"
