//! Comment ordering: best (the lower bound of the Wilson score interval, as Lobsters
//! ranks comments), top, new, old and controversial.

/// z for an 80% confidence interval, as Lobsters uses.
const Z: f64 = 1.281551565545;

/// The lower bound of the Wilson score interval of the share of upvotes.
pub fn wilson_lower_bound(up: i32, down: i32) -> f64 {
    let n = f64::from(up + down);
    if n <= 0.0 {
        return 0.0;
    }
    let p = f64::from(up) / n;
    let z2 = Z * Z;
    (p + z2 / (2.0 * n) - Z * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt()) / (1.0 + z2 / n)
}

/// Many votes, evenly split, rank highest (reddit's measure).
pub fn controversy(up: i32, down: i32) -> f64 {
    if up <= 0 || down <= 0 {
        return 0.0;
    }
    let (up, down) = (f64::from(up), f64::from(down));
    let magnitude = up + down;
    let balance = if up > down { down / up } else { up / down };
    magnitude.powf(balance)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Best,
    Top,
    New,
    Old,
    Controversial,
}

impl Sort {
    pub const ALL: [Sort; 5] = [Sort::Best, Sort::Top, Sort::New, Sort::Old, Sort::Controversial];

    /// Unknown or missing values give the default, never an error.
    pub fn parse(value: Option<&str>) -> Sort {
        match value.map(str::to_ascii_lowercase).as_deref() {
            Some("top") => Sort::Top,
            Some("new") => Sort::New,
            Some("old") => Sort::Old,
            Some("controversial") => Sort::Controversial,
            _ => Sort::Best,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Best => "best",
            Sort::Top => "top",
            Sort::New => "new",
            Sort::Old => "old",
            Sort::Controversial => "controversial",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Best => "Best",
            Sort::Top => "Top",
            Sort::New => "New",
            Sort::Old => "Old",
            Sort::Controversial => "Controversial",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson() {
        assert_eq!(wilson_lower_bound(0, 0), 0.0);
        // More evidence beats a perfect but thin record.
        assert!(wilson_lower_bound(90, 10) > wilson_lower_bound(1, 0));
        assert!(wilson_lower_bound(1, 0) > wilson_lower_bound(0, 1));
        let w = wilson_lower_bound(5, 0);
        assert!((0.0..1.0).contains(&w));
    }

    #[test]
    fn controversial() {
        assert_eq!(controversy(10, 0), 0.0);
        assert!(controversy(50, 50) > controversy(90, 10));
        assert!(controversy(50, 50) > controversy(5, 5));
    }

    #[test]
    fn parse_defaults() {
        assert_eq!(Sort::parse(None), Sort::Best);
        assert_eq!(Sort::parse(Some("bogus")), Sort::Best);
        assert_eq!(Sort::parse(Some("NEW")), Sort::New);
        for s in Sort::ALL {
            assert_eq!(Sort::parse(Some(s.as_str())), s);
        }
    }
}
