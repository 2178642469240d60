use crate::azure::docs;
use crate::lint::{Check, Fix, Input, KeyFileContext, Level, Outcome, Rule, Violation};
use crate::model::key_file::{BackupKind, Contents, BACKUP_FORMAT};

pub static RULE: Rule = Rule {
    code: "CMK033",
    name: "backup-not-a-key",
    default_level: Level::Deny,
    summary: "A Key Vault backup file is a backup of a key",
    doc: include_str!("../../rules/CMK033.md"),
    url: docs::BACKUP,
    reads: &[],
    breakable_in: &[Input::KeyFile],
    check: Check::KeyFile(check),
};

fn check(cx: &KeyFileContext<'_>) -> Outcome {
    let Contents::Backup(backup) = &cx.file.contents else {
        return Ok(Vec::new());
    };
    let what = match backup.kind {
        BackupKind::Key => return Ok(Vec::new()),
        BackupKind::Secret => "a secret".to_string(),
        BackupKind::Other => format!("a `{}` object", backup.format_name),
    };
    Ok(vec![Violation::at(cx.at(BACKUP_FORMAT))
        .message(format!(
            "`{}` is a backup of {what}, not of a key",
            cx.file.path
        ))
        .label("must be `AzureKeyVaultKeyBackupV1.microsoft.com`")
        .help("`az keyvault key restore` restores only key backups: back up the key itself")
        .fix(Fix::Replace(vec![
            "az keyvault key backup --vault-name <vault> --name <key> --file key.backup"
                .to_string(),
        ]))])
}
