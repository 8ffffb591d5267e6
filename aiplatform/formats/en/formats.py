DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "F Y"
SHORT_DATE_FORMAT = "Y-m-d"
# The day and time of something recent (a message, an order): no year.
SHORT_DATETIME_FORMAT = "M j, H:i"
