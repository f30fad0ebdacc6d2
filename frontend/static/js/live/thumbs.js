// Webcam snapshots for the console: fetched with the bearer token (an <img> cannot send it) and
// shown through object URLs, one per sitting, released when a newer snapshot replaces it.

const urls = new Map();    // attempt id -> {snapshotId, url}
const wanted = new Map();  // attempt id -> the newest snapshot id asked for

export function snapshotUrl(attemptId) {
  const known = urls.get(attemptId);
  return known ? known.url : null;
}

// Resolves to the object URL of the sitting's latest snapshot, fetching it only when it changed;
// null while nothing newer is available.
export async function latestSnapshot(attemptId, snapshotId) {
  const known = urls.get(attemptId);
  if (!snapshotId || (known && known.snapshotId === snapshotId) || wanted.get(attemptId) === snapshotId) return null;
  wanted.set(attemptId, snapshotId);
  let url;
  try {
    const response = await fetch(`/api/v1/proctoring/snapshots/${snapshotId}`, {
      headers: { Authorization: `Bearer ${Api.token()}` },
    });
    if (!response.ok) throw new Error(`snapshot ${response.status}`);
    url = URL.createObjectURL(await response.blob());
  } catch (error) {
    if (wanted.get(attemptId) === snapshotId) wanted.delete(attemptId); // a later update retries
    return null;
  }
  if (wanted.get(attemptId) !== snapshotId) { // a newer one was asked for meanwhile
    URL.revokeObjectURL(url);
    return null;
  }
  const previous = urls.get(attemptId);
  urls.set(attemptId, { snapshotId, url });
  if (previous) setTimeout(() => URL.revokeObjectURL(previous.url), 5000); // images switch first
  return url;
}
