//! `--shard K/N`: this run's share of the projects.

use pep508_rs::PackageName;

/// A share of the projects, by a stable hash of the normalised name (FNV-1a, the same on
/// every machine and every run), so N copies split a list without talking to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Why a `--shard` value is not `K/N`; each names the value as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("`{0}`: expected K/N, e.g. 0/3")]
    NotKOverN(String),
    #[error("`{0}`: K must be a number")]
    BadIndex(String),
    #[error("`{0}`: N must be a number")]
    BadCount(String),
    #[error("`{0}`: K must be between 0 and N-1 and N at least 1")]
    OutOfRange(String),
}

impl Shard {
    pub fn contains(&self, name: &PackageName) -> bool {
        let hash = name
            .as_ref()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        hash % u64::from(self.count) == u64::from(self.index)
    }
}

impl std::str::FromStr for Shard {
    type Err = ShardError;
    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| ShardError::NotKOverN(text.to_string()))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| ShardError::BadIndex(text.to_string()))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| ShardError::BadCount(text.to_string()))?;
        if count == 0 || index >= count {
            return Err(ShardError::OutOfRange(text.to_string()));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_over_n_and_says_what_is_wrong() {
        assert_eq!(" 1 / 3".parse(), Ok(Shard { index: 1, count: 3 }));
        assert_eq!("2/3".parse::<Shard>().unwrap().to_string(), "2/3");
        let table = [
            ("3", "`3`: expected K/N, e.g. 0/3"),
            ("x/3", "`x/3`: K must be a number"),
            ("1/y", "`1/y`: N must be a number"),
            ("3/3", "`3/3`: K must be between 0 and N-1 and N at least 1"),
            ("0/0", "`0/0`: K must be between 0 and N-1 and N at least 1"),
        ];
        for (text, message) in table {
            assert_eq!(text.parse::<Shard>().unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn every_project_is_in_exactly_one_shard() {
        for project in ["ww-a", "numpy", "a", "zope-interface"] {
            let name: PackageName = project.parse().unwrap();
            let holders = (0..5)
                .filter(|&index| Shard { index, count: 5 }.contains(&name))
                .count();
            assert_eq!(holders, 1, "{project}");
        }
    }
}
