//! Who the analyst is on AWS: the user id every record is scoped by comes from the caller's
//! identity (STS GetCallerIdentity), never from a self-declared name. IAM enforces the same
//! boundary (`dynamodb:LeadingKeys`, the Secrets Manager path); this keeps the console honest.

use crate::error::{Error, Result};
use aws_config::SdkConfig;

/// The caller as STS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub arn: String,
    pub account: String,
    /// The IAM user name, the role session name or the federated user's name.
    pub user_id: String,
}

/// The user id in a caller ARN: `user/[path/]alice` gives `alice`,
/// `assumed-role/Analyst/alice@example.com` the session name, `federated-user/bob` gives `bob`,
/// the account root `root`.
pub fn user_of_arn(arn: &str) -> Result<String> {
    let resource = arn.splitn(6, ':').nth(5).filter(|r| !r.is_empty()).ok_or_else(|| {
        Error::invalid("sts GetCallerIdentity", format!("`{arn}` is not an ARN of a user or a role session"))
    })?;
    let id = match resource.split('/').collect::<Vec<_>>().as_slice() {
        ["root"] => "root".to_string(),
        ["user", .., name] | ["federated-user", name] => name.to_string(),
        ["assumed-role", _role, session] => session.to_string(),
        _ => {
            return Err(Error::invalid(
                "sts GetCallerIdentity",
                format!("`{arn}`: expected an IAM user, a role session or a federated user"),
            ));
        }
    };
    let usable = id.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !usable || id.chars().all(|c| c == '.') {
        return Err(Error::invalid("sts GetCallerIdentity", format!("`{arn}`: no usable user name in it")));
    }
    Ok(id)
}

/// Asks STS who the credentials belong to: (ARN, account).
pub async fn arn_and_account(conf: &SdkConfig) -> Result<(String, String)> {
    let who = aws_sdk_sts::Client::new(conf)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| super::sdk_err("sts GetCallerIdentity (are the credentials valid?)", e))?;
    match (who.arn, who.account) {
        (Some(arn), Some(account)) => Ok((arn, account)),
        _ => Err(Error::backend("sts GetCallerIdentity", "no ARN or account in the answer")),
    }
}

/// The caller, with the user id its ARN gives.
pub async fn caller(conf: &SdkConfig) -> Result<Caller> {
    let (arn, account) = arn_and_account(conf).await?;
    Ok(Caller { user_id: user_of_arn(&arn)?, account, arn })
}

/// The user id to act as: the caller's own, or `requested` when it is the same or the
/// caller's ARN is one of `admins` (`MANTISSA_ADMIN_ARNS`, for an on-call lead reading a
/// colleague's queue; IAM still has the last word).
pub fn act_as(caller: &Caller, requested: Option<&str>, admins: &[String]) -> Result<String> {
    match requested {
        None => Ok(caller.user_id.clone()),
        Some(r) if r == caller.user_id => Ok(caller.user_id.clone()),
        Some(r) if admins.iter().any(|a| a == &caller.arn) => Ok(r.to_string()),
        Some(r) => Err(Error::invalid(
            "--user",
            format!(
                "on AWS you are `{}` ({}); acting as `{r}` needs your ARN in MANTISSA_ADMIN_ARNS \
                 (and an IAM policy that lets you read their items); drop --user to act as yourself",
                caller.user_id, caller.arn
            ),
        )),
    }
}

/// `MANTISSA_ADMIN_ARNS`: comma-separated caller ARNs that may use `--user`.
pub fn admins_from_env() -> Vec<String> {
    std::env::var("MANTISSA_ADMIN_ARNS")
        .unwrap_or_default()
        .split(',')
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_come_from_every_kind_of_caller_arn() {
        assert_eq!(user_of_arn("arn:aws:iam::123456789012:user/alice").unwrap(), "alice");
        assert_eq!(user_of_arn("arn:aws:iam::123456789012:user/soc/tier1/bob").unwrap(), "bob");
        assert_eq!(
            user_of_arn("arn:aws:sts::123456789012:assumed-role/Analyst/carol@example.com").unwrap(),
            "carol@example.com"
        );
        assert_eq!(user_of_arn("arn:aws:sts::123456789012:federated-user/dave").unwrap(), "dave");
        assert_eq!(user_of_arn("arn:aws:iam::123456789012:root").unwrap(), "root");
        for bad in [
            "",
            "alice",
            "arn:aws:iam::1:role/Admin",
            "arn:aws:iam::1:user/a b",
            "arn:aws:iam::1:user/../x/",
            "arn:aws:iam::1:user/..",
        ] {
            assert!(user_of_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn another_users_id_needs_an_admin_arn() {
        let me = Caller {
            arn: "arn:aws:sts::1:assumed-role/Analyst/alice".into(),
            account: "1".into(),
            user_id: "alice".into(),
        };
        assert_eq!(act_as(&me, None, &[]).unwrap(), "alice");
        assert_eq!(act_as(&me, Some("alice"), &[]).unwrap(), "alice");
        let refused = act_as(&me, Some("bob"), &[]).unwrap_err().to_string();
        assert!(refused.contains("--user") && refused.contains("MANTISSA_ADMIN_ARNS"), "{refused}");
        assert_eq!(act_as(&me, Some("bob"), std::slice::from_ref(&me.arn)).unwrap(), "bob");
    }
}
