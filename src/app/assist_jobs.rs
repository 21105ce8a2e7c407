//! The assistant's and the settings' backend work for the console: each request reads the
//! user's settings anew (a provider set a moment ago is used at once), the lake's schemas and
//! sizes, and reports back by message.

use super::{Context, Msg};
use mantissa_backend::assist::{self, Assistant, query::LakeFacts};
use mantissa_backend::model::Alert;
use mantissa_backend::settings;

async fn connect(ctx: &Context) -> Result<(Assistant, LakeFacts), String> {
    let assistant =
        Assistant::connect(&ctx.s, &ctx.user, assist::DEFAULT_TIMEOUT).await.map_err(|e| e.to_string())?;
    let facts = LakeFacts::read(&ctx.s, &ctx.lake).await.map_err(|e| e.to_string())?;
    Ok((assistant, facts))
}

pub async fn ask(ctx: &Context, question: &str) -> Msg {
    let run = async {
        let (assistant, facts) = connect(ctx).await?;
        let look_back =
            settings::load(&ctx.s, &ctx.user).await.map_err(|e| e.to_string())?.ui.default_time_range;
        let today = ctx.s.clock.now().date_naive();
        assist::query::ask(&assistant, question, &facts.view(), today, look_back.days())
            .await
            .map_err(|e| e.to_string())
    };
    Msg::QueryDrafted(run.await)
}

pub async fn draft_rule(ctx: &Context, question: &str) -> Msg {
    let run = async {
        let (assistant, facts) = connect(ctx).await?;
        assist::rule::draft(&assistant, question, &facts.view(), &ctx.lake).await.map_err(|e| e.to_string())
    };
    Msg::RuleDrafted(run.await)
}

pub async fn explain(ctx: &Context, alert: &Alert) -> Msg {
    let run = async {
        let (assistant, facts) = connect(ctx).await?;
        assist::explain::explain(&assistant, alert, &facts.view()).await.map_err(|e| e.to_string())
    };
    Msg::Explained(run.await)
}

pub async fn load_settings(ctx: &Context, view: bool) -> Msg {
    let run = async {
        let effective = settings::load(&ctx.s, &ctx.user).await?;
        let shown = settings::list(&ctx.s, &ctx.user).await?;
        Ok::<_, mantissa_backend::Error>((effective, shown))
    };
    Msg::Settings { view, settings: run.await.map_err(|e| e.to_string()) }
}

pub async fn set_setting(ctx: &Context, key: &str, value: &str) -> Msg {
    Msg::SettingSaved(settings::set(&ctx.s, &ctx.user, key, value).await.map_err(|e| e.to_string()))
}
