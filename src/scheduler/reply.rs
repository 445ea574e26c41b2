//! What the assistant says back, in the user's language.

use crate::nlu::Intent;
use crate::plugin::{IntentDef, SlotType};
use std::collections::BTreeMap;

fn pick(zh: bool, en: &str, zh_text: &str) -> String {
    if zh {
        zh_text.to_string()
    } else {
        en.to_string()
    }
}

/// The intent's reply template with `{slot}`, `{slot.attr}` and `{answer}` filled.
/// Placeholders that cannot be filled are dropped, never spoken raw.
pub fn render(
    def: &IntentDef,
    types: &BTreeMap<String, SlotType>,
    intent: &Intent,
    answer: Option<&str>,
) -> String {
    let zh = intent.lang == "zh";
    let Some(tpl) = def.reply.get(if zh { "zh" } else { "en" }) else {
        return pick(zh, "Done.", "好的。");
    };
    let slots = super::action::Slots {
        values: &intent.slots,
        intent: def,
        types,
    };
    let mut out = String::new();
    let mut rest = tpl.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let body = rest[open + 1..close].trim();
        if body == "answer" {
            out.push_str(answer.unwrap_or(""));
        } else if let Ok(v) = slots.lookup(body) {
            out.push_str(&v.join(if zh { "、" } else { ", " }));
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    // Tidy doubled spaces left by empty placeholders.
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn not_understood(zh: bool) -> String {
    pick(
        zh,
        "Sorry, I can't help with that.",
        "抱歉，这个我还帮不了你。",
    )
}
pub fn nothing_pending(zh: bool) -> String {
    pick(
        zh,
        "There is nothing to confirm.",
        "现在没有需要确认的操作。",
    )
}
pub fn cancelled(zh: bool) -> String {
    pick(zh, "OK, cancelled.", "好的，已取消。")
}
pub fn confirm_question(zh: bool, intent: &str) -> String {
    let (en, z) = match intent {
        "doors.unlock" => ("unlock the doors", "解锁车门"),
        "trunk.open" => ("open the trunk", "打开后备箱"),
        _ => ("do that", "执行这个操作"),
    };
    if zh {
        format!("确定要{z}吗？")
    } else {
        format!("Do you want me to {en}? Say yes to confirm.")
    }
}
pub fn cannot(zh: bool) -> String {
    pick(
        zh,
        "Sorry, I'm not allowed to do that.",
        "抱歉，这个操作不被允许。",
    )
}
pub fn out_of_range(zh: bool, v: f64, min: f64, max: f64) -> String {
    if zh {
        format!("{v}超出了范围，可以设置{min}到{max}。")
    } else {
        format!("{v} is out of range; I can set {min} to {max}.")
    }
}
pub fn missing(zh: bool, slot: &str) -> String {
    if zh {
        "请再说一遍具体的数值。".to_string()
    } else {
        format!("Please tell me the {slot}.")
    }
}
pub fn moving(zh: bool) -> String {
    pick(
        zh,
        "I can't do that while the car is moving.",
        "车辆行驶中，不能执行这个操作。",
    )
}
pub fn speed_unknown(zh: bool) -> String {
    pick(
        zh,
        "I can't do that until I know the car is parked.",
        "暂时无法确认车辆已停稳，不能执行这个操作。",
    )
}
pub fn too_fast(zh: bool, limit: f64) -> String {
    if zh {
        format!("车速超过{limit}公里每小时，为了安全暂不打开。")
    } else {
        format!("For safety I won't open that above {limit} km/h.")
    }
}
pub fn failed(zh: bool) -> String {
    pick(zh, "Sorry, that didn't work.", "抱歉，操作没有成功。")
}
pub fn unknown_state(zh: bool) -> String {
    pick(
        zh,
        "Sorry, I don't know that right now.",
        "抱歉，暂时获取不到这个信息。",
    )
}
pub fn unavailable(zh: bool) -> String {
    pick(
        zh,
        "Sorry, that function isn't available.",
        "抱歉，这个功能暂不可用。",
    )
}
pub fn not_in_contacts(zh: bool, name: &str) -> String {
    if zh {
        format!("通讯录里没有找到{name}。")
    } else {
        format!("I couldn't find {name} in your contacts.")
    }
}
