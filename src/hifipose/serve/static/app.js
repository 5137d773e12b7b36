// hifipose serve: the live page. Captures the webcam, sends JPEG frames over a WebSocket,
// draws the returned keypoints, and runs upload jobs. No dependencies.
// Protocol: src/hifipose/serve/protocol.py (binary frame = "HPF1", uint32 id, float64 ms, JPEG).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const token = new URLSearchParams(location.search).get("token");
  const withToken = (path) =>
    token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path;

  const MAX_IN_FLIGHT = 2;        // frames sent but not yet answered or dropped
  const MAX_SEND_FPS = 30;
  const STALE_MS = 5000;          // forget a frame never answered (e.g. across a reconnect)
  const MIN_VISIBILITY = 0.5;
  const COLOURS = { left: "#ff8a00", right: "#00d9e7", middle: "#ffffff" };
  // A person's colour follows their track id (the golden angle spreads neighbouring ids
  // around the hue circle), so a person keeps their colour for as long as they keep their id.
  const personColour = (trackId) => `hsl(${Math.round((trackId * 137.508) % 360)}, 90%, 60%)`;

  // Everything a person (or the browser test) may want to read.
  const stats = {
    connected: false, sent: 0, answered: 0, withPose: 0, dropped: 0, errors: 0,
    fps: 0, inferenceMs: null, rttMs: null, config: null, configAcks: 0,
    lastError: null, lastResult: null, models: [], runtimes: [],
    drawn: [],                    // the people in the overlay: {trackId, colour, label, hands, face}
  };
  window.hifipose = stats;

  let topology = null;
  let ws = null;
  let stream = null;
  let nextFrameId = 1;
  let encoding = false;
  let lastSendMs = 0;
  const inFlight = new Map();     // frame_id → send time (performance.now())
  const sentFrames = new Map();   // frame_id → the ImageBitmap sent, to draw its result on
  let shownFrame = null;          // the frame the latest result belongs to
  const answerTimes = [];         // result arrival times in the last second
  let maskImage = null;           // the latest segmentation mask, as an Image

  const video = $("video");
  const overlay = $("overlay");
  const world = $("world");
  const capture = document.createElement("canvas");

  // ---- tabs -------------------------------------------------------------------------
  for (const tab of document.querySelectorAll("nav button")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll("nav button")) {
        const selected = other === tab;
        other.setAttribute("aria-selected", String(selected));
        $(other.dataset.panel).hidden = !selected;
      }
    });
  }
  const liveVisible = () => !$("panel-live").hidden;

  // Results are drawn on the very frame they were computed from, so the skeleton never
  // trails a moving person (the live video shows only until the first result).
  function forget(frameId) {
    inFlight.delete(frameId);
    const bitmap = sentFrames.get(frameId);
    sentFrames.delete(frameId);
    return bitmap;
  }

  // ---- WebSocket --------------------------------------------------------------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(withToken(`${scheme}//${location.host}/ws`));
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { stats.connected = true; setStatus("connected"); };
    ws.onclose = (event) => {
      stats.connected = false;
      for (const id of [...sentFrames.keys()]) forget(id).close();
      inFlight.clear();
      const why = event.code === 1008 ? "refused (token?)" : event.code === 1013 ? "server busy" : "closed";
      setStatus(`connection ${why}; retrying…`);
      setTimeout(connect, 1500);
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") onMessage(JSON.parse(event.data));
    };
  }

  function sendConfig() {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({
      type: "config",
      model_type: $("model").value,
      runtime: $("runtime").value,
      smoothing: $("smoothing").checked,
      segmentation: $("segmentation").checked,
      num_poses: Number($("num-poses").value),
      holistic: $("holistic").checked,
    }));
    setStatus("switching…");
  }
  for (const id of ["model", "runtime", "smoothing", "segmentation", "num-poses", "holistic"]) {
    $(id).addEventListener("change", sendConfig);
  }

  function fillSelect(select, values, chosen) {
    select.replaceChildren(...values.map((value) => {
      const option = document.createElement("option");
      option.value = option.textContent = value;
      option.selected = value === chosen;
      return option;
    }));
  }

  function onMessage(msg) {
    const now = performance.now();
    switch (msg.type) {
      case "hello":
        topology = msg.topology;
        stats.models = msg.models;
        stats.runtimes = msg.runtimes;
        $("version").textContent = `v${msg.version}`;
        fillSelect($("model"), msg.models, msg.config.model_type);
        fillSelect($("runtime"), msg.runtimes, msg.config.runtime);
        fillSelect($("upload-model"), msg.models, msg.config.model_type);
        fillSelect($("upload-runtime"), msg.runtimes, msg.config.runtime);
        for (const id of ["num-poses", "upload-num-poses"]) {
          fillSelect($(id),
            Array.from({ length: msg.limits.max_num_poses }, (_, i) => String(i + 1)),
            String(msg.config.num_poses));
        }
        break;
      case "config":
        stats.config = msg.config;
        stats.configAcks += 1;
        $("num-poses").value = String(msg.config.num_poses);
        $("stat-config").textContent = `${msg.config.model_type} · ${msg.config.runtime}`;
        setStatus(`loaded ${msg.config.model_type} in ${Math.round(msg.load_ms)} ms`);
        break;
      case "result": {
        const sentAt = inFlight.get(msg.frame_id);
        const bitmap = forget(msg.frame_id);
        if (bitmap) {
          if (shownFrame) shownFrame.close();
          shownFrame = bitmap;
        }
        if (sentAt !== undefined) stats.rttMs = now - sentAt;
        stats.answered += 1;
        stats.withPose += msg.poses.length > 0 ? 1 : 0;
        stats.inferenceMs = msg.inference_ms;
        stats.lastResult = msg;
        answerTimes.push(now);
        if (msg.mask_png) {
          const image = new Image();
          image.onload = () => { maskImage = image; };
          image.src = `data:image/png;base64,${msg.mask_png}`;
        } else {
          maskImage = null;
        }
        drawWorld();
        break;
      }
      case "dropped":
        forget(msg.frame_id)?.close();
        stats.dropped += 1;
        break;
      case "error":
        if (msg.frame_id !== null && msg.frame_id !== undefined) forget(msg.frame_id)?.close();
        stats.errors += 1;
        stats.lastError = msg;
        setStatus(`error: ${msg.message}`, true);
        break;
      default:
        break;
    }
  }

  // ---- camera and frame sending -----------------------------------------------------
  async function startCamera() {
    $("camera-error").hidden = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showCameraError("This browser gives no camera here: open the page on localhost or over https.");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
      });
    } catch (error) {
      showCameraError(`No camera: ${error.message || error.name}`);
      return;
    }
    video.srcObject = stream;
    await video.play().catch(() => {});
    $("camera-toggle").textContent = "Stop camera";
  }

  function stopCamera() {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    $("camera-toggle").textContent = "Start camera";
  }

  function showCameraError(text) {
    $("camera-error").textContent = text;
    $("camera-error").hidden = false;
  }

  $("camera-toggle").addEventListener("click", () => (stream ? stopCamera() : startCamera()));

  function maybeSend(now) {
    if (!stream || !ws || ws.readyState !== WebSocket.OPEN || !liveVisible()) return;
    if (encoding || !video.videoWidth || now - lastSendMs < 1000 / MAX_SEND_FPS) return;
    for (const [id, sentAt] of inFlight) if (now - sentAt > STALE_MS) forget(id)?.close();
    if (inFlight.size >= MAX_IN_FLIGHT) return;
    const width = Number($("frame-width").value);
    const height = Math.round((width * video.videoHeight) / video.videoWidth);
    capture.width = width;
    capture.height = height;
    capture.getContext("2d").drawImage(video, 0, 0, width, height);
    const captureMs = now;
    encoding = true;
    lastSendMs = now;
    const framePromise = createImageBitmap(capture);
    capture.toBlob(async (blob) => {
      try {
        const frame = await framePromise;
        if (!blob || !ws || ws.readyState !== WebSocket.OPEN) {
          frame.close();
          return;
        }
        const jpeg = new Uint8Array(await blob.arrayBuffer());
        const message = new Uint8Array(16 + jpeg.byteLength);
        message.set([0x48, 0x50, 0x46, 0x31]); // "HPF1"
        const view = new DataView(message.buffer);
        const id = nextFrameId;
        nextFrameId = (nextFrameId + 1) >>> 0 || 1;
        view.setUint32(4, id, true);
        view.setFloat64(8, captureMs, true);
        message.set(jpeg, 16);
        inFlight.set(id, performance.now());
        sentFrames.set(id, frame);
        ws.send(message);
        stats.sent += 1;
      } finally {
        encoding = false;
      }
    }, "image/jpeg", 0.8);
  }

  // ---- drawing ----------------------------------------------------------------------
  // Skeleton edges between shown points: in ``colour`` if given, else left, right or middle
  // colour by the ends' sides.
  function drawEdges(ctx, points, lineWidth, colour = null) {
    ctx.lineWidth = lineWidth;
    for (const [a, b] of topology.edges) {
      if (!points[a].shown || !points[b].shown) continue;
      const side = topology.sides[a] === topology.sides[b] ? topology.sides[a] : "middle";
      ctx.strokeStyle = colour || COLOURS[side];
      ctx.beginPath();
      ctx.moveTo(points[a].x, points[a].y);
      ctx.lineTo(points[b].x, points[b].y);
      ctx.stroke();
    }
  }

  function drawOverlay() {
    const rect = overlay.getBoundingClientRect();
    const width = Math.max(1, Math.round(rect.width));
    const height = Math.max(1, Math.round(rect.height));
    if (overlay.width !== width || overlay.height !== height) {
      overlay.width = width;
      overlay.height = height;
    }
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    const result = stats.lastResult;
    if (!result || !topology || !stream) return;
    if (shownFrame) ctx.drawImage(shownFrame, 0, 0, width, height);
    const sx = width / result.width;
    const sy = height / result.height;
    if (maskImage && $("segmentation").checked) {
      ctx.save();
      ctx.globalAlpha = 0.45;
      ctx.drawImage(tintedMask(maskImage, width, height), 0, 0);
      ctx.restore();
    }
    // One person without an id (MediaPipe's Pose graph): left/right colours, as ever.
    // Otherwise each person's skeleton in their own colour, labelled with their id.
    const single = result.poses.length === 1 && result.poses[0].track_id === null;
    const drawn = [];
    result.poses.forEach((pose, index) => {
      const points = pose.keypoints.map(([x, y, vis, pres]) => ({
        x: x * sx, y: y * sy, shown: x !== null && y !== null && vis >= MIN_VISIBILITY && pres >= 0.5,
      }));
      const hasId = pose.track_id !== null && pose.track_id !== undefined;
      // Without ids (MediaPipe Tasks) colours follow the result order and may swap.
      const colour = single ? null : personColour(hasId ? pose.track_id : index + 1);
      ctx.lineCap = "round";
      drawEdges(ctx, points, 3, colour);
      points.forEach((p, i) => {
        if (!p.shown) return;
        ctx.fillStyle = COLOURS[topology.sides[i]];
        ctx.beginPath();
        ctx.arc(p.x, p.y, 4, 0, 2 * Math.PI);
        ctx.fill();
      });
      const parts = drawParts(ctx, pose, sx, sy, colour);
      const label = hasId ? `#${pose.track_id}` : null;
      if (label) drawLabel(ctx, points, label, colour);
      drawn.push({ trackId: hasId ? pose.track_id : null, colour, label, ...parts });
    });
    stats.drawn = drawn;
  }

  // Holistic parts, when the server sent them: each hand's 21-point skeleton in its side's
  // colour (or the person's), the face as small light dots. Returns what was drawn.
  function drawParts(ctx, pose, sx, sy, colour) {
    let hands = 0;
    for (const [name, side] of [["left_hand", "left"], ["right_hand", "right"]]) {
      const hand = pose[name];
      if (!hand || !topology.hand_edges) continue;
      ctx.lineWidth = 2;
      ctx.strokeStyle = colour || COLOURS[side];
      for (const [a, b] of topology.hand_edges) {
        if (hand[a][0] === null || hand[b][0] === null) continue;
        ctx.beginPath();
        ctx.moveTo(hand[a][0] * sx, hand[a][1] * sy);
        ctx.lineTo(hand[b][0] * sx, hand[b][1] * sy);
        ctx.stroke();
      }
      hands += 1;
    }
    const face = pose.face;
    if (face) {
      ctx.fillStyle = "rgba(224, 224, 224, 0.8)";
      for (const [x, y] of face) {
        if (x !== null && y !== null) ctx.fillRect(x * sx - 0.5, y * sy - 0.5, 1.2, 1.2);
      }
    }
    return { hands, face: Boolean(face) };
  }

  // The id above the person's highest shown point, on a patch of their colour.
  function drawLabel(ctx, points, label, colour) {
    const shown = points.filter((p) => p.shown);
    if (!shown.length) return;
    const top = shown.reduce((best, p) => (p.y < best.y ? p : best));
    ctx.font = "bold 15px system-ui, sans-serif";
    const width = ctx.measureText(label).width + 10;
    const x = Math.max(0, top.x - width / 2);
    const y = Math.max(0, top.y - 30);
    ctx.fillStyle = colour;
    ctx.fillRect(x, y, width, 20);
    ctx.fillStyle = "#000000";
    ctx.fillText(label, x + 5, y + 15);
  }

  const tintCanvas = document.createElement("canvas");
  function tintedMask(image, width, height) {
    tintCanvas.width = width;
    tintCanvas.height = height;
    const ctx = tintCanvas.getContext("2d");
    ctx.drawImage(image, 0, 0, width, height);
    // Grey mask → alpha: keep the mask's brightness as coverage, coloured green.
    const pixels = ctx.getImageData(0, 0, width, height);
    const data = pixels.data;
    for (let i = 0; i < data.length; i += 4) {
      const alpha = data[i];
      data[i] = 80; data[i + 1] = 200; data[i + 2] = 120; data[i + 3] = alpha;
    }
    ctx.putImageData(pixels, 0, 0);
    return tintCanvas;
  }

  function drawWorld() {
    const ctx = world.getContext("2d");
    const { width, height } = world;
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = "#2a323c";
    ctx.beginPath();
    ctx.moveTo(0, height / 2); ctx.lineTo(width, height / 2);
    ctx.moveTo(width / 2, 0); ctx.lineTo(width / 2, height);
    ctx.stroke();
    const result = stats.lastResult;
    if (!result || !topology || result.poses.length === 0) return;
    const yaw = (Number($("yaw").value) * Math.PI) / 180;
    const cos = Math.cos(yaw);
    const sin = Math.sin(yaw);
    const scale = height / 2.2; // pixels per metre: a 2 m person fills the view
    const pose = result.poses[0];
    const points = pose.world.map(([x, y, z], i) => ({
      x: width / 2 + scale * (x * cos - z * sin),
      y: height / 2 + scale * y,
      shown: x !== null && pose.keypoints[i][2] >= MIN_VISIBILITY,
    }));
    drawEdges(ctx, points, 2);
  }
  $("yaw").addEventListener("input", drawWorld);

  function updateStats(now) {
    while (answerTimes.length && now - answerTimes[0] > 1000) answerTimes.shift();
    stats.fps = answerTimes.length;
    $("stat-fps").textContent = stats.answered ? stats.fps.toFixed(0) : "–";
    $("stat-inference").textContent = stats.inferenceMs === null ? "–" : `${stats.inferenceMs.toFixed(1)} ms`;
    $("stat-rtt").textContent = stats.rttMs === null ? "–" : `${stats.rttMs.toFixed(0)} ms`;
    $("stat-dropped").textContent = String(stats.dropped);
    const result = stats.lastResult;
    const poses = result ? result.poses : [];
    const ids = poses.filter((p) => p.track_id !== null).map((p) => `#${p.track_id}`);
    $("stat-pose").textContent = !result ? "–"
      : poses.length > 1 || ids.length ? `${poses.length}${ids.length ? ` (${ids.join(" ")})` : ""}`
      : poses.length ? `yes (${poses[0].score.toFixed(2)})` : "no";
  }

  function setStatus(text, isError = false) {
    $("status").textContent = text;
    $("status").classList.toggle("error", isError);
  }

  let lastStatsMs = 0;
  function tick(now) {
    requestAnimationFrame(tick);
    maybeSend(now);
    drawOverlay();
    if (now - lastStatsMs > 250) {
      lastStatsMs = now;
      updateStats(now);
    }
  }

  // ---- upload tab -------------------------------------------------------------------
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const file = $("upload-file").files[0];
    if (!file) return;
    const dot = file.name.lastIndexOf(".");
    const query = new URLSearchParams({
      suffix: dot >= 0 ? file.name.slice(dot) : "",
      model_type: $("upload-model").value,
      runtime: $("upload-runtime").value,
      smoothing: $("upload-smoothing").checked ? "1" : "0",
      segmentation: $("upload-segmentation").checked ? "1" : "0",
      num_poses: $("upload-num-poses").value,
      holistic: $("upload-holistic").checked ? "1" : "0",
    });
    $("downloads").replaceChildren();
    $("upload-start").disabled = true;
    const request = new XMLHttpRequest();
    request.open("POST", withToken(`/api/jobs?${query}`));
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.onprogress = (e) => {
      if (e.lengthComputable) showProgress(e.loaded / e.total, `Uploading… ${Math.round((100 * e.loaded) / e.total)} %`);
    };
    request.onerror = () => finishUpload("Upload failed: the connection broke.");
    request.onload = () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (e) { /* not JSON */ }
      if (request.status !== 202) {
        finishUpload(`Upload refused: ${body.error || request.status}`);
        return;
      }
      pollJob(body.job_id);
    };
    showProgress(0, "Uploading…");
    request.send(file);
  });

  function showProgress(value, text) {
    if (value === null) $("upload-progress").removeAttribute("value");
    else $("upload-progress").value = value;
    $("upload-status").textContent = text;
  }

  function finishUpload(text) {
    $("upload-status").textContent = text;
    $("upload-start").disabled = false;
  }

  async function pollJob(jobId) {
    let job;
    try {
      const response = await fetch(withToken(`/api/jobs/${jobId}`));
      job = await response.json();
      if (!response.ok) throw new Error(job.error || response.status);
    } catch (error) {
      finishUpload(`Lost the job: ${error.message}`);
      return;
    }
    if (job.state === "queued" || job.state === "running") {
      const total = job.frames_total ? `/${job.frames_total}` : "";
      showProgress(job.progress, `Tracking… ${job.frames_done}${total} frames`);
      setTimeout(() => pollJob(jobId), 400);
      return;
    }
    if (job.state !== "done") {
      showProgress(0, "");
      finishUpload(`Tracking failed: ${job.error || job.state}`);
      return;
    }
    showProgress(1, "");
    const frames = `${job.frames_done} frame${job.frames_done === 1 ? "" : "s"}`;
    finishUpload(`Done: ${frames}, a pose in ${job.frames_with_pose}.`);
    const names = { jsonl: "Keypoints (JSONL)", csv: "Keypoints (CSV)", parquet: "Keypoints (Parquet)", overlay: "Overlay video (MP4)", face_csv: "Face points (CSV)" };
    $("downloads").replaceChildren(...job.outputs.map((kind) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = withToken(`/api/jobs/${jobId}/files/${kind}`);
      link.download = "";
      link.id = `download-${kind}`;
      link.textContent = names[kind] || kind;
      item.append(link);
      return item;
    }));
  }

  connect();
  startCamera();
  requestAnimationFrame(tick);
})();
