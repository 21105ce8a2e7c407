//! One suite, two backends: the port contracts on the embedded backend and on AWS (moto
//! server on loopback), then what only AWS has: item layout, GSIs, names, Athena, Lambdas.

mod backends {
    pub mod alerts;
    pub mod aws_only;
    pub mod cases;
    pub mod dlq;
    pub mod lake_aws;
    pub mod moto;
    pub mod suite;
    pub mod template;
}

use backends::{moto, suite};

/// Runs each named contract on both backends, as `local::<name>` and `aws::<name>`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let s = mantissa_backend::services::Services::local(dir.path()).await.unwrap();
                    super::suite::$name(&s).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (_, s) = super::moto::aws_services().await;
                    super::suite::$name(&s).await;
                }
            )*
        }
    };
}

on_both_backends!(
    rules_crud_is_scoped_by_user,
    alert_history_filters_newest_first_and_keeps_attempts,
    integrations_crud_is_scoped_by_user,
    dedup_claims_are_atomic_and_expire,
    settings_round_trip,
    user_settings_and_keys_are_per_user,
    triage_is_logged_per_alert_and_field_and_keeps_folded_events,
    cases_are_scoped_versioned_logged_and_close_their_alerts,
    queue_fifo_dlq_and_redrive,
    dead_letters_are_scoped_to_their_user_exactly,
    dead_letters_from_history_list_redrive_and_discard,
    secrets_lifecycle,
    schedules_lifecycle,
    routed_alerts_are_delivered_retried_and_recorded,
    rule_folder_push_pull_and_conflicts_round_trip,
);
