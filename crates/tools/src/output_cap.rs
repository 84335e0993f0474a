//! Keeping command output within what a model should read: the head and the tail survive, the
//! middle is replaced by one marker line saying how much was left out.

/// Lines kept from the start of the output.
pub const HEAD_LINES: usize = 128;
/// Lines kept from the end of the output.
pub const TAIL_LINES: usize = 128;
/// Bytes kept in total (head and tail share it equally).
pub const MAX_BYTES: usize = 10 * 1024;

/// `text` unchanged when it is short; otherwise its head and tail around a marker like
/// `[... 4012 lines (412 KiB) omitted of 4268 lines (450 KiB) ...]`.
///
/// ```
/// let long: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
/// let capped = cadre_tools::output_cap::cap_output(&long);
/// assert!(capped.starts_with("line 1\n"));
/// assert!(capped.ends_with("line 1000\n"));
/// assert!(capped.contains("lines ("));
/// assert!(capped.len() < 11 * 1024);
/// ```
pub fn cap_output(text: &str) -> String {
    let total_lines = text.lines().count();
    if total_lines <= HEAD_LINES + TAIL_LINES && text.len() <= MAX_BYTES {
        return text.to_string();
    }
    let budget = MAX_BYTES / 2;
    let head_end = head_end(text, budget);
    let tail_start = tail_start(text, budget).max(head_end);
    if head_end == tail_start {
        return text.to_string();
    }
    let omitted = &text[head_end..tail_start];
    let omitted_lines = omitted.matches('\n').count().max(1);
    let mut out = String::with_capacity(head_end + (text.len() - tail_start) + 96);
    out.push_str(&text[..head_end]);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "[... {omitted_lines} lines ({}) omitted of {total_lines} lines ({}) ...]\n",
        format_size(omitted.len()),
        format_size(text.len()),
    ));
    out.push_str(&text[tail_start..]);
    out
}

/// End of the head: whole lines up to [`HEAD_LINES`] within `budget` bytes, or a cut inside the
/// first line when even that one is too long.
fn head_end(text: &str, budget: usize) -> usize {
    let mut end = 0;
    for (taken, (index, _)) in text.match_indices('\n').enumerate() {
        if taken == HEAD_LINES || index + 1 > budget {
            break;
        }
        end = index + 1;
    }
    if end == 0 {
        end = floor_char_boundary(text, budget.min(text.len()));
    }
    end
}

/// Start of the tail: whole lines up to [`TAIL_LINES`] within `budget` bytes, or a cut inside
/// the last line when even that one is too long.
fn tail_start(text: &str, budget: usize) -> usize {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut start = text.len();
    for (taken, (index, _)) in body.rmatch_indices('\n').enumerate() {
        if taken == TAIL_LINES || text.len() - (index + 1) > budget {
            break;
        }
        start = index + 1;
    }
    if start == text.len() {
        start = ceil_char_boundary(text, text.len().saturating_sub(budget));
    }
    start
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

/// `512 B`, `12 KiB`, `3.4 MiB`.
pub fn format_size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes < KIB {
        format!("{bytes} B")
    } else if bytes < MIB {
        format!("{} KiB", (bytes + KIB / 2) / KIB)
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn short_output_is_untouched() {
        let text = numbered(256);
        assert_eq!(cap_output(&text), text);
        assert_eq!(cap_output(""), "");
    }

    #[test]
    fn many_lines_keep_head_and_tail_with_a_marker() {
        let text = numbered(5000);
        let capped = cap_output(&text);
        let lines: Vec<&str> = capped.lines().collect();
        assert_eq!(lines[0], "line 1");
        assert_eq!(*lines.last().unwrap(), "line 5000");
        let marker = lines.iter().find(|l| l.starts_with("[... ")).unwrap();
        let kept = lines.len() - 1;
        let omitted: usize = marker[5..].split(' ').next().unwrap().parse().unwrap();
        assert_eq!(kept + omitted, 5000, "{marker}");
        assert!(marker.contains("of 5000 lines"), "{marker}");
        assert!(capped.len() <= MAX_BYTES + 100);
    }

    #[test]
    fn line_budget_applies_before_byte_budget() {
        let text = numbered(300);
        let capped = cap_output(&text);
        assert!(capped.contains("line 128\n[... 44 lines"), "{capped}");
        assert!(capped.contains("omitted of 300 lines"));
        assert!(capped.contains("...]\nline 173\n"));
    }

    #[test]
    fn one_huge_line_is_cut_on_char_boundaries() {
        let text = "é".repeat(50_000);
        let capped = cap_output(&text);
        assert!(capped.len() <= MAX_BYTES + 100);
        assert!(capped.starts_with('é'));
        assert!(capped.ends_with('é'));
        assert!(capped.contains("KiB) omitted"), "{}", &capped[5000..5200]);
    }

    #[test]
    fn sizes_are_human_readable() {
        assert_eq!(format_size(12), "12 B");
        assert_eq!(format_size(412 * 1024), "412 KiB");
        assert_eq!(format_size(3 * 1024 * 1024 + 400 * 1024), "3.4 MiB");
    }
}
