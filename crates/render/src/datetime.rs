//! Python `datetime` objects as templates see them: Peering Manager's
//! datetime fields (`last_established_state`, `created`…) are aware
//! datetimes in UTC, printed `2024-03-14 15:09:26+00:00`, with `strftime`,
//! `isoformat`, their parts and comparisons.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Timelike, Utc};
use minijinja::value::{Object, ObjectRepr, Value, from_args};
use minijinja::{Error, State};

use crate::objects::{err, in_repr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PyDateTime(pub DateTime<Utc>);

impl PyDateTime {
    pub fn value(t: DateTime<Utc>) -> Value {
        Value::from_object(PyDateTime(t))
    }

    fn micros(&self) -> u32 {
        self.0.nanosecond() / 1000
    }

    /// `isoformat(sep)`: microseconds only when not zero, as Python does.
    fn iso(&self, sep: &str) -> String {
        let frac = if self.micros() == 0 { String::new() } else { format!(".{:06}", self.micros()) };
        format!("{}{sep}{}{frac}+00:00", self.0.format("%Y-%m-%d"), self.0.format("%H:%M:%S"))
    }
}

impl fmt::Display for PyDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso(" "))
    }
}

impl Object for PyDateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let t = self.0;
        Some(match key.as_str()? {
            "year" => Value::from(t.year()),
            "month" => Value::from(t.month()),
            "day" => Value::from(t.day()),
            "hour" => Value::from(t.hour()),
            "minute" => Value::from(t.minute()),
            "second" => Value::from(t.second()),
            "microsecond" => Value::from(self.micros()),
            "tzinfo" => Value::from("UTC"),
            _ => return None,
        })
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn custom_cmp(self: &Arc<Self>, other: &minijinja::value::DynObject) -> Option<std::cmp::Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<PyDateTime>()?.0))
    }

    fn call_method(self: &Arc<Self>, _: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let t = self.0;
        Ok(match method {
            "isoformat" => {
                let (sep,): (Option<String>,) = from_args(args)?;
                Value::from(self.iso(sep.as_deref().unwrap_or("T")))
            }
            "strftime" => {
                let (format,): (String,) = from_args(args)?;
                // Python's `%Z` of an aware UTC datetime is `UTC`; `%z` is `+0000`.
                Value::from(t.format(&format.replace("%Z", "UTC")).to_string())
            }
            "weekday" => Value::from(t.weekday().num_days_from_monday()),
            "isoweekday" => Value::from(t.weekday().number_from_monday()),
            "date" => Value::from(t.format("%Y-%m-%d").to_string()),
            "time" => Value::from(t.format("%H:%M:%S").to_string()),
            "timestamp" => Value::from(t.timestamp() as f64 + f64::from(self.micros()) / 1e6),
            "ctime" => Value::from(t.format("%a %b %e %H:%M:%S %Y").to_string()),
            _ => return Err(err(format!("datetime has no method {method}"))),
        })
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if in_repr() {
            let mut parts = vec![t_part(self.0.year()), t_part(self.0.month()), t_part(self.0.day())];
            parts.extend([t_part(self.0.hour()), t_part(self.0.minute())]);
            if self.0.second() != 0 || self.micros() != 0 {
                parts.push(t_part(self.0.second()));
            }
            if self.micros() != 0 {
                parts.push(t_part(self.micros()));
            }
            return write!(f, "datetime.datetime({}, tzinfo=datetime.timezone.utc)", parts.join(", "));
        }
        fmt::Display::fmt(&**self, f)
    }
}

/// Python's `timedelta`, what subtracting two datetimes gives: days,
/// seconds (0–86399) and microseconds, printed `1 day, 2:03:04.000005`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeDelta(pub chrono::TimeDelta);

impl TimeDelta {
    pub fn value(d: chrono::TimeDelta) -> Value {
        Value::from_object(TimeDelta(d))
    }

    fn micros_total(&self) -> i64 {
        self.0.num_microseconds().unwrap_or(if self.0 < chrono::TimeDelta::zero() { i64::MIN } else { i64::MAX })
    }

    /// (days, seconds, microseconds), normalised as Python does: only days negative.
    fn parts(&self) -> (i64, i64, i64) {
        let us = self.micros_total();
        let days = us.div_euclid(86_400_000_000);
        let rest = us.rem_euclid(86_400_000_000);
        (days, rest / 1_000_000, rest % 1_000_000)
    }
}

impl fmt::Display for TimeDelta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, secs, us) = self.parts();
        if days != 0 {
            write!(f, "{days} day{}, ", if days.abs() == 1 { "" } else { "s" })?;
        }
        write!(f, "{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)?;
        if us != 0 {
            write!(f, ".{us:06}")?;
        }
        Ok(())
    }
}

impl Object for TimeDelta {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (days, secs, us) = self.parts();
        Some(match key.as_str()? {
            "days" => Value::from(days),
            "seconds" => Value::from(secs),
            "microseconds" => Value::from(us),
            _ => return None,
        })
    }

    fn is_true(self: &Arc<Self>) -> bool {
        !self.0.is_zero()
    }

    fn custom_cmp(self: &Arc<Self>, other: &minijinja::value::DynObject) -> Option<std::cmp::Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<TimeDelta>()?.0))
    }

    fn call_method(self: &Arc<Self>, _: &mut State<'_, '_>, method: &str, _args: &[Value]) -> Result<Value, Error> {
        match method {
            "total_seconds" => Ok(Value::from(self.micros_total() as f64 / 1e6)),
            _ => Err(err(format!("timedelta has no method {method}"))),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if in_repr() {
            let (days, secs, us) = self.parts();
            let parts: Vec<String> = [("days", days), ("seconds", secs), ("microseconds", us)]
                .iter()
                .filter(|(_, n)| *n != 0)
                .map(|(k, n)| format!("{k}={n}"))
                .collect();
            let inner = if parts.is_empty() { "0".to_string() } else { parts.join(", ") };
            return write!(f, "datetime.timedelta({inner})");
        }
        fmt::Display::fmt(&**self, f)
    }
}

fn t_part(n: impl fmt::Display) -> String {
    n.to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn prints_as_python() {
        let t = super::PyDateTime(chrono::Utc.with_ymd_and_hms(2024, 3, 14, 15, 9, 26).unwrap());
        assert_eq!(t.to_string(), "2024-03-14 15:09:26+00:00");
        assert_eq!(t.iso("T"), "2024-03-14T15:09:26+00:00");
    }

    #[test]
    fn timedeltas_print_as_python() {
        let d = |us: i64| super::TimeDelta(chrono::TimeDelta::microseconds(us)).to_string();
        assert_eq!(d(0), "0:00:00");
        assert_eq!(d(86_400_000_000 + 3_723_000_005), "1 day, 1:02:03.000005");
        assert_eq!(d(3 * 86_400_000_000 + 59_000_000), "3 days, 0:00:59");
        assert_eq!(d(-1_000_000), "-1 day, 23:59:59");
        let t = super::TimeDelta(chrono::TimeDelta::microseconds(-1_000_000));
        assert_eq!(t.parts(), (-1, 86399, 0));
    }
}
