internal import CLibical
import Synchronization

/// VTIMEZONEs parsed once per process and reused by every calendar that carries the same one.
///
/// Converting a time in a VTIMEZONE makes libical expand the zone's rules into a list of
/// changes (and our check counts them first): with libical's ICU-backed recurrence
/// iterator, that is most of a parse's time for zones whose rules start in 1601, as
/// Outlook's do. A calendar's own zone is thrown away with the calendar; the cached one,
/// keyed by the VTIMEZONE's exact text, keeps its expanded changes, and its count of
/// changes is remembered per last year counted. Bounded: at most `capacity` zones, each of
/// at most `maximumTextSize` bytes; past that a calendar uses its own zone, as before.
/// Cached zones live as long as the process (nothing evicts them, so no pointer handed out
/// dangles); they are read and expanded only under `Libical.zoneLock`.
final class ParsedTimeZoneCache: Sendable {
    static let shared = ParsedTimeZoneCache()

    static let defaultCapacity = 256
    static let defaultMaximumTextSize = 64 << 10

    /// Zones kept at most; a new zone past them is not cached.
    let capacity: Int
    /// Longest VTIMEZONE text (bytes) cached; a longer one is not.
    let maximumTextSize: Int

    init(capacity: Int = defaultCapacity, maximumTextSize: Int = defaultMaximumTextSize) {
        self.capacity = capacity
        self.maximumTextSize = maximumTextSize
    }

    struct Zone: @unchecked Sendable {
        // @unchecked: the zone is read and expanded only under `Libical.zoneLock`, and never freed.
        /// The cached `icaltimezone *`.
        let pointer: OpaquePointer
        /// Last year counted → changes through that year.
        var transitions: [Int: Int]
    }

    private struct State: ~Copyable {
        var zones: [String: Zone] = [:]
    }

    private let state = Mutex(State())

    /// The cached zone with this VTIMEZONE text, made from a clone of `component` when it is
    /// new and the cache has room; nil when the text is too long or the cache is full.
    func zone(text: String, component: OpaquePointer) -> Zone? {
        if let zone = self.state.withLock({ $0.zones[text] }) { return zone }
        guard text.utf8.count <= self.maximumTextSize, let clone = icalcomponent_new_clone(component) else { return nil }
        guard let zone = icaltimezone_new() else {
            icalcomponent_free(clone)
            return nil
        }
        // The zone owns the clone only when it takes it: without a TZID libical keeps neither.
        guard icaltimezone_set_component(zone, clone) != 0 else {
            icalcomponent_free(clone)
            icaltimezone_free(zone, 1)
            return nil
        }
        let candidate = Zone(pointer: zone, transitions: [:])
        let kept: Zone? = self.state.withLock { state in
            if let earlier = state.zones[text] { return earlier }
            guard state.zones.count < self.capacity else { return nil }
            state.zones[text] = candidate
            return candidate
        }
        if kept?.pointer != candidate.pointer { icaltimezone_free(zone, 1) }
        return kept
    }

    func remember(transitions: Int, through year: Int, text: String) {
        self.state.withLock { state in
            guard state.zones[text] != nil, state.zones[text]!.transitions.count < 64 else { return }
            state.zones[text]!.transitions[year] = transitions
        }
    }

    /// The cached zone for one VTIMEZONE given as text (parsed here, keyed by `text`), as
    /// `zone(text:component:)` answers it; nil also when the text is no component.
    func zone(vtimezone text: String) -> Zone? {
        guard let component = icalcomponent_new_from_string(text) else { return nil }
        defer { icalcomponent_free(component) }
        return self.zone(text: text, component: component)
    }

    var count: Int {
        self.state.withLock { $0.zones.count }
    }
}
