//! MQTT topics of the protocol (docs/PROTOCOL.md), as typed values.

/// The topic names under one prefix (default `cabin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
}

impl Topics {
    pub fn new(prefix: &str) -> Self {
        Topics {
            prefix: prefix.trim_end_matches('/').to_string(),
        }
    }

    /// Actuation request for a VSS signal: `<prefix>/actuate/<VSS path>`.
    pub fn actuate(&self, vss_path: &str) -> String {
        format!("{}/actuate/{vss_path}", self.prefix)
    }

    /// Retained vehicle state of a VSS signal: `<prefix>/state/<VSS path>`.
    pub fn state(&self, vss_path: &str) -> String {
        format!("{}/state/{vss_path}", self.prefix)
    }

    /// Subscription filter for all vehicle state.
    pub fn state_filter(&self) -> String {
        format!("{}/state/#", self.prefix)
    }

    /// The VSS path of a state topic, if it is one.
    pub fn state_path<'a>(&self, topic: &'a str) -> Option<&'a str> {
        topic
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix("/state/")
            .filter(|p| !p.is_empty())
    }

    /// The VSS path of an actuation topic, if it is one.
    pub fn actuate_path<'a>(&self, topic: &'a str) -> Option<&'a str> {
        topic
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix("/actuate/")
            .filter(|p| !p.is_empty())
    }

    /// Subscription filter for all actuation requests (the simulator's input).
    pub fn actuate_filter(&self) -> String {
        format!("{}/actuate/#", self.prefix)
    }

    /// Push-to-talk: a message here starts listening without the wake word.
    pub fn ptt(&self) -> String {
        format!("{}/assistant/ptt", self.prefix)
    }

    /// Assistant events (transcript, intent, action, reply, error).
    pub fn events(&self) -> String {
        format!("{}/assistant/events", self.prefix)
    }

    /// A client's own sync topic (a marker round trip after subscribing, see
    /// `MqttBus::sync_state`); wildcard and level characters in the id are replaced.
    pub fn sync(&self, client_id: &str) -> String {
        let id: String = client_id
            .chars()
            .map(|c| if matches!(c, '+' | '#' | '/') { '_' } else { c })
            .collect();
        format!("{}/assistant/sync/{id}", self.prefix)
    }

    /// The simulator's speed control: `{"value": <km/h>}`.
    pub fn sim_speed(&self) -> String {
        format!("{}/sim/speed", self.prefix)
    }

    /// Text injection: a typed command, as if spoken.
    pub fn say(&self) -> String {
        format!("{}/assistant/say", self.prefix)
    }

    /// Requests of the host to an external plugin: `<prefix>/plugin/<name>/request`.
    pub fn plugin_request(&self, plugin: &str) -> String {
        format!("{}/plugin/{plugin}/request", self.prefix)
    }

    /// Answers of an external plugin: `<prefix>/plugin/<name>/response`.
    pub fn plugin_response(&self, plugin: &str) -> String {
        format!("{}/plugin/{plugin}/response", self.prefix)
    }

    /// Subscription filter for every external plugin's answers.
    pub fn plugin_response_filter(&self) -> String {
        format!("{}/plugin/+/response", self.prefix)
    }

    /// The plugin name of a response topic, if it is one.
    pub fn response_plugin<'a>(&self, topic: &'a str) -> Option<&'a str> {
        topic
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix("/plugin/")?
            .strip_suffix("/response")
            .filter(|n| !n.is_empty() && !n.contains('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_contract() {
        let t = Topics::new("cabin");
        assert_eq!(
            t.actuate("Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature"),
            "cabin/actuate/Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature"
        );
        assert_eq!(t.state("Vehicle.Speed"), "cabin/state/Vehicle.Speed");
        assert_eq!(
            t.state_path("cabin/state/Vehicle.Speed"),
            Some("Vehicle.Speed")
        );
        assert_eq!(t.state_path("cabin/actuate/Vehicle.Speed"), None);
        assert_eq!(
            t.actuate_path("cabin/actuate/Vehicle.Speed"),
            Some("Vehicle.Speed")
        );
        assert_eq!(t.events(), "cabin/assistant/events");
        assert_eq!(t.sim_speed(), "cabin/sim/speed");
        assert_eq!(t.sync("cv-1/+#"), "cabin/assistant/sync/cv-1___");
        assert_eq!(Topics::new("car/").state_filter(), "car/state/#");
        assert_eq!(
            t.plugin_request("tirecheck"),
            "cabin/plugin/tirecheck/request"
        );
        assert_eq!(
            t.plugin_response("tirecheck"),
            "cabin/plugin/tirecheck/response"
        );
        assert_eq!(t.plugin_response_filter(), "cabin/plugin/+/response");
        assert_eq!(
            t.response_plugin("cabin/plugin/tirecheck/response"),
            Some("tirecheck")
        );
        assert_eq!(t.response_plugin("cabin/plugin/tirecheck/request"), None);
        assert_eq!(t.response_plugin("cabin/plugin/a/b/response"), None);
        assert_eq!(t.response_plugin("cabin/plugin//response"), None);
    }
}
