// Pasted activity -> the body of POST /v1/attributions.
// A JSON object (a STIX bundle, a MISP event with or without its "Event" wrapper, the simple
// JSON form) passes through as it is: the API tells the three apart. Anything else is a plain
// list of indicators, sent as the simple form's "text": the API reads it as the CLI reads an
// indicator file (one per line, first field, # comments; defanged values are fine).

export function activityBody(text, name) {
  const trimmed = text.trim();
  if (!trimmed) throw new Error("paste a STIX bundle, a MISP event, simple JSON, or indicators one per line");
  if (trimmed.startsWith("{")) {
    let data;
    try {
      data = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`not valid JSON: ${err.message}`);
    }
    if (typeof data !== "object" || Array.isArray(data) || data === null) {
      throw new Error("JSON activity must be an object (a STIX bundle, a MISP event or simple lists)");
    }
    return data;
  }
  const body = { text: trimmed };
  if (name) body.name = name;
  return body;
}
