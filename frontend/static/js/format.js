// Dates and times as the candidate reads them: in their own time zone, with the zone named.
"use strict";

const Format = (() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";
  const day = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
  const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const offset = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });

  // "Europe/Berlin, GMT+1"; just "UTC" where the zone and its offset say the same
  function zoneName(date) {
    const part = offset.formatToParts(date).find((p) => p.type === "timeZoneName");
    return part && part.value !== zone ? `${zone}, ${part.value}` : zone;
  }

  // "Tue, 1 Dec 2026, 14:00 (Europe/Berlin, GMT+1)"
  function when(iso) {
    const date = new Date(iso);
    return `${day.format(date)}, ${time.format(date)} (${zoneName(date)})`;
  }

  // "Tue, 1 Dec 2026, 14:00 to 17:00 (Europe/Berlin, GMT+1)"; the second day is named when it differs
  function range(fromIso, toIso) {
    const from = new Date(fromIso), to = new Date(toIso);
    const sameDay = day.format(from) === day.format(to);
    const end = sameDay ? time.format(to) : `${day.format(to)}, ${time.format(to)}`;
    return `${day.format(from)}, ${time.format(from)} to ${end} (${zoneName(from)})`;
  }

  function minutes(count) {
    if (count < 60) return `${count} minutes`;
    const hours = Math.floor(count / 60), rest = count % 60;
    return `${count} minutes (${hours} h${rest ? ` ${rest} min` : ""})`;
  }

  return { zone, when, range, minutes };
})();
