"""Civil calendar <-> "local epoch ms" (ms since 2000-01-01T00:00:00 in the meter's local time).

Owns the calendar arithmetic only. It does not know the meter's UTC offset (the meter never
does), time zones, or daylight saving; pure integer arithmetic so it runs on any MicroPython port.
"""

from meterseal.firmware.compat import const

MS_PER_SECOND = const(1000)
MS_PER_DAY = const(86400000)
MIN_YEAR = const(2000)
MAX_YEAR = const(2099)
# 2000-03-01 is day 60 since 2000-01-01; 730425 is its day number in the era-based algorithm.
_DAYS_0000_03_01_TO_2000_01_01 = 730425
# 2000-01-01 was a Saturday (weekday 6, with 0 = Sunday).
_WEEKDAY_2000_01_01 = 6
# First instant the two-digit-year wire format cannot express.
MS_LIMIT = 36525 * 86400000  # 2100-01-01: the years 2000..2099 hold 36525 days

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    if month == 2 and is_leap(year):
        return 29
    return _MONTH_DAYS[month - 1]


def days_from_civil(y, m, d):
    """Days since 2000-01-01 of a proleptic Gregorian date (H. Hinnant's era algorithm)."""
    # Shifting the year to start in March puts the leap day last, so month lengths are regular.
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - _DAYS_0000_03_01_TO_2000_01_01


def civil_from_days(z):
    """(Y, M, D) of day z since 2000-01-01; inverse of days_from_civil."""
    z += _DAYS_0000_03_01_TO_2000_01_01
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


def civil_from_ms(ms):
    """(Y, M, D, h, m, s, weekday) of a local epoch ms; sub-second part dropped; 0 = Sunday."""
    days, rem = divmod(ms, MS_PER_DAY)
    y, mo, d = civil_from_days(days)
    secs = rem // MS_PER_SECOND
    return y, mo, d, secs // 3600, (secs // 60) % 60, secs % 60, (days + _WEEKDAY_2000_01_01) % 7


def ms_from_civil(y, mo, d, h, mi, s):
    """Local epoch ms of a civil time, Y the full year 2000..2099; ValueError when out of range."""
    if not (MIN_YEAR <= y <= MAX_YEAR):
        raise ValueError("year out of 2000..2099")
    if not (1 <= mo <= 12):
        raise ValueError("month out of range")
    if not (1 <= d <= days_in_month(y, mo)):
        raise ValueError("day out of range")
    if not (0 <= h < 24 and 0 <= mi < 60 and 0 <= s < 60):
        raise ValueError("time of day out of range")
    return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * MS_PER_SECOND
