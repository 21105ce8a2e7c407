//! The keymap loader: shipped keymaps, user files merged over them, and every bad entry named.

use super::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tempfile::TempDir;

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn every_shipped_keymap_loads_clean_and_binds_every_action() {
    for (name, _) in SHIPPED {
        let (map, problems) = load(name, None);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        for (action, ..) in ACTIONS {
            assert_ne!(map.keys(*action), "unbound", "{name} leaves {action:?} unbound");
        }
    }
}

/// The help shows context (13), keys (22) and this text on one line of an 80-column screen.
#[test]
fn every_help_text_fits_the_help_at_80_columns() {
    for (action, _, _, help) in ACTIONS {
        assert!(help.chars().count() <= 41, "{action:?}: `{help}` is too long for the help overlay");
    }
}

#[test]
fn keys_parse_as_terminals_send_them() {
    let (vim, _) = load("default", None);
    assert_eq!(vim.action(Screen::Alerts, key('j')), Some(Action::Down));
    // Crossterm sends `G` with Shift, and `?` with or without it.
    let shift = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT);
    assert_eq!(vim.action(Screen::Alerts, shift('G')), Some(Action::Bottom));
    assert_eq!(vim.action(Screen::Alerts, key('?')), Some(Action::Help));
    assert_eq!(vim.action(Screen::Alerts, shift('?')), Some(Action::Help));
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    assert_eq!(vim.action(Screen::QueryGrid, ctrl('d')), Some(Action::PageDown));
    assert_eq!(vim.action(Screen::QueryEditor, KeyEvent::from(KeyCode::F(5))), Some(Action::Run));
    // The editor takes plain keys as text.
    assert_eq!(vim.action(Screen::QueryEditor, key('q')), None);
    assert_eq!(vim.action(Screen::RuleEditor, key('1')), None);
    let (emacs, _) = load("emacs", None);
    assert_eq!(emacs.action(Screen::Alerts, ctrl('n')), Some(Action::Down));
    assert_eq!(emacs.action(Screen::Alerts, key('j')), None, "emacs moves with Ctrl-n, not j");
    let alt = KeyEvent::new(KeyCode::Char('>'), KeyModifiers::ALT | KeyModifiers::SHIFT);
    assert_eq!(emacs.action(Screen::Dlq, alt), Some(Action::Bottom));
    assert!(Key::parse("Ctrl-G").is_ok() && Key::parse("Hyper-x").is_err());
    // Pane switches with Alt work in the editors, whose plain keys are text.
    let alt = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT);
    for screen in [Screen::QueryEditor, Screen::RuleEditor, Screen::Form, Screen::Alerts] {
        assert_eq!(vim.action(screen, alt('2')), Some(Action::PaneRules), "{screen:?}");
    }
    assert_eq!(vim.action(Screen::QueryEditor, key('2')), None);
    assert_eq!(vim.chord_key(Action::PaneDlq), Some("Alt-5"));
}

#[test]
fn user_files_merge_over_the_shipped_keymap() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("default.toml"),
        "[list]\ndown = [\"n\", \"Down\"]\n[alerts]\nacknowledge = \"k\"\n",
    )
    .unwrap();
    let (map, problems) = load("default", Some(dir.path()));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(map.action(Screen::Alerts, key('n')), Some(Action::Down));
    assert_eq!(map.action(Screen::Alerts, key('j')), None, "the action's keys are replaced");
    // `k` moved from `up` to `acknowledge`: the user's file wins, up keeps its other key.
    assert_eq!(map.action(Screen::Alerts, key('k')), Some(Action::Acknowledge));
    assert_eq!(map.keys(Action::Up), "Up");
    assert_eq!(map.keys(Action::Run), "F5 Ctrl-j Ctrl-Enter");
    assert_eq!(map.first_key(Action::Filter), "/");
    assert_eq!(map.action(Screen::Alerts, key('r')), Some(Action::Resolve), "the rest stays");
    // A user keymap may inherit another one.
    std::fs::write(dir.path().join("mine.toml"), "inherits = \"emacs\"\n[global]\nquit = \"Ctrl-q\"\n")
        .unwrap();
    let (mine, problems) = load("mine", Some(dir.path()));
    assert!(problems.is_empty(), "{problems:?}");
    let ctrl_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
    assert_eq!(mine.action(Screen::Rules, ctrl_q), Some(Action::Quit));
    assert!(names(Some(dir.path())).contains(&"mine".to_string()));
}

#[test]
fn bad_entries_name_the_file_and_key_and_the_rest_is_kept() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("default.toml"),
        "[lsit]\ndown = \"n\"\n[alerts]\nacknowlege = \"K\"\nresolve = \"Hyper-r\"\nnote = \"z\"\n\
         pivot = 3\nassign = [\"x\"]\nreopen = \"x\"\n[dlq]\ntest_send = \"t\"\n",
    )
    .unwrap();
    let (map, problems) = load("default", Some(dir.path()));
    let all = problems.join("\n");
    let file = dir.path().join("default.toml").display().to_string();
    for expected in [
        format!("{file}: unknown context `[lsit]`: did you mean `list`?"),
        format!("{file}: [alerts] unknown action `acknowlege`: did you mean `acknowledge`?"),
        format!("{file}: [alerts] resolve: `Hyper-r` is not a key"),
        format!("{file}: [alerts] pivot: keys are a string or a list of strings"),
        format!("{file}: [alerts] `x` is bound to both `assign` and `reopen`"),
        format!("{file}: [dlq] unknown action `test_send`: `test_send` belongs in [integrations]"),
    ] {
        assert!(all.contains(&expected), "missing {expected:?} in\n{all}");
    }
    // The good entry and the shipped keys for the bad ones are kept.
    assert_eq!(map.action(Screen::Alerts, key('z')), Some(Action::Note));
    assert_eq!(map.action(Screen::Alerts, key('r')), Some(Action::Resolve));
    assert_eq!(map.action(Screen::Alerts, key('p')), Some(Action::Pivot));

    // A file that is not TOML at all: the error has the line, the shipped keymap is used.
    std::fs::write(dir.path().join("broken.toml"), "[list\n").unwrap();
    let (map, problems) = load("broken", Some(dir.path()));
    assert!(problems[0].contains("broken.toml") && problems[0].contains("line 1"), "{problems:?}");
    assert_eq!(map.action(Screen::Alerts, key('j')), Some(Action::Down));
    let (_, problems) = load("vi", None);
    assert!(problems[0].contains("unknown keymap `vi`"), "{problems:?}");
}

#[test]
fn a_pane_chord_an_editor_already_uses_is_named() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("clash.toml"),
        "inherits = \"default\"\n[global]\npane_rules = \"Ctrl-s\"\n",
    )
    .unwrap();
    let (_, problems) = load("clash", Some(dir.path()));
    let all = problems.join("\n");
    assert!(all.contains("`Ctrl-s` already means [rule_editor] save") && all.contains("clash.toml"), "{all}");
}

#[test]
fn a_key_with_two_meanings_on_one_screen_is_named() {
    let dir = TempDir::new().unwrap();
    // `g` is `top` in [list]; binding it in [alerts] in the same file clashes on the alerts
    // screen, which reads both.
    std::fs::write(
        dir.path().join("clash.toml"),
        "inherits = \"default\"\n[list]\ntop = \"g\"\n[alerts]\npivot = \"g\"\n",
    )
    .unwrap();
    let (_, problems) = load("clash", Some(dir.path()));
    let all = problems.join("\n");
    assert!(
        all.contains("`g` already means")
            && all.contains("pivot")
            && all.contains("top")
            && all.contains("clash.toml"),
        "{all}"
    );
}
