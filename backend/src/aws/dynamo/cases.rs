//! Cases (`cases`: user_id, case_id): one item a case, written attribute by attribute, its
//! `version` checked by the PutItem's condition.

use super::{DynamoStore, from_item, landed, n, s, timestamp, to_item};
use crate::aws::names::Table;
use crate::error::Result;
use crate::model::Case;
use crate::ports::CaseStore;
use async_trait::async_trait;

#[async_trait]
impl CaseStore for DynamoStore {
    async fn put_case(&self, case: &Case) -> Result<bool> {
        let mut item = to_item("case item", case)?;
        item.remove("id");
        item.insert("case_id".into(), s(&case.id));
        item.insert("updated_at".into(), s(timestamp(case.updated_at)));
        let put = self.client.put_item().table_name(self.table(Table::Cases)).set_item(Some(item));
        let put = if case.version <= 1 {
            put.condition_expression("attribute_not_exists(case_id)")
        } else {
            put.condition_expression("version = :read")
                .expression_attribute_values(":read", n(case.version - 1))
        };
        landed(put.send().await)
    }

    async fn get_case(&self, user_id: &str, case_id: &str) -> Result<Option<Case>> {
        let item = self.get_by_key(Table::Cases, &[("user_id", user_id), ("case_id", case_id)]).await?;
        item.map(case_from_item).transpose()
    }

    async fn list_cases(&self, user_id: &str) -> Result<Vec<Case>> {
        let q = self
            .client
            .query()
            .table_name(self.table(Table::Cases))
            .key_condition_expression("user_id = :u")
            .expression_attribute_values(":u", s(user_id));
        let mut cases: Vec<Case> =
            self.collect(q, None).await?.into_iter().map(case_from_item).collect::<Result<_>>()?;
        cases.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        Ok(cases)
    }
}

fn case_from_item(mut item: super::Item) -> Result<Case> {
    if let Some(id) = item.remove("case_id") {
        item.insert("id".into(), id);
    }
    from_item("case item", item)
}
