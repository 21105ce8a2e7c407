//! The pipeline's counters in SQLite: one row a user, day, metric, dimensions and value,
//! added to in place, so `mantissa status` and the console read today's totals at once.

use super::{Db, sql_err};
use crate::error::Result;
use crate::model::metric::{Sample, Total};
use crate::ports::Counters;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;

#[async_trait]
impl Counters for Db {
    async fn add(&self, sample: &Sample) -> Result<()> {
        let (user, day, metric, dims) = (
            sample.user_id.clone(),
            sample.at.format("%Y-%m-%d").to_string(),
            sample.metric,
            sample.dimension_key(),
        );
        let values: Vec<(&'static str, f64)> = sample.values.iter().map(|(n, _, v)| (*n, *v)).collect();
        self.call(move |c| {
            for (value, amount) in &values {
                c.execute(
                    "INSERT INTO counters (user_id, day, metric, dimensions, value, sum, samples)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
                     ON CONFLICT (user_id, day, metric, dimensions, value)
                     DO UPDATE SET sum = sum + ?6, samples = samples + 1",
                    params![user, day, metric, dims, value, amount],
                )
                .map_err(sql_err)?;
            }
            Ok(())
        })
        .await
    }

    async fn totals(&self, user_id: &str, since: DateTime<Utc>) -> Result<Vec<Total>> {
        let (user, day) = (user_id.to_string(), since.format("%Y-%m-%d").to_string());
        self.call(move |c| {
            let mut st = c
                .prepare(
                    "SELECT metric, dimensions, value, sum(sum), sum(samples) FROM counters
                     WHERE user_id = ?1 AND day >= ?2 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                )
                .map_err(sql_err)?;
            let rows = st
                .query_map(params![user, day], |r| {
                    Ok(Total {
                        metric: r.get(0)?,
                        dimensions: r.get(1)?,
                        value: r.get(2)?,
                        sum: r.get(3)?,
                        samples: r.get::<_, i64>(4)?.max(0) as u64,
                    })
                })
                .map_err(sql_err)?;
            rows.map(|r| r.map_err(sql_err)).collect()
        })
        .await
    }
}
