//! `xencfg checks [CODE]`: the list of checks, or one explained.

use crate::diag::codes;
use crate::error::{Error, Outcome};

pub fn run(code: Option<&str>) -> Result<Outcome, Error> {
    let text = match code {
        None => codes::ALL
            .iter()
            .map(|c| {
                format!(
                    "{}  {:<34} {:<8} {}\n",
                    c.code,
                    c.name,
                    c.severity.as_str(),
                    c.summary
                )
            })
            .collect::<String>(),
        Some(code) => {
            let c = codes::find(code).ok_or_else(|| Error::UnknownCheck {
                name: code.to_string(),
                from_option: false,
            })?;
            format!(
                "{} {} ({} by default)\n\n{}\n\n{}\n",
                c.code,
                c.name,
                c.severity.as_str(),
                c.summary,
                c.explanation
            )
        }
    };
    crate::stdout::write(text.as_bytes())?;
    Ok(Outcome::Success)
}
