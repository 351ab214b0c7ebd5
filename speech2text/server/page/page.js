// The page of `speech2text serve`: the microphone streamed over WS /v1/listen, files posted to
// /v1/audio/transcriptions. The microphone is captured by an AudioWorklet (capture.js) in an
// AudioContext at 16 kHz, so the browser resamples; a browser that cannot record at 16 kHz records
// at its own rate, and the stream names that rate so that the server resamples.
"use strict";

const TARGET_RATE = 16000;
const KEY_STORAGE = "speech2text-api-key";
const $ = (id) => document.getElementById(id);

let capture = null;  // {stream, context, node, socket} while the microphone is on

function showStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function apiKey() {
  return $("key").value.trim();
}

function addLine(text, label) {
  const item = document.createElement("li");
  const tag = document.createElement("span");
  tag.className = "label";
  tag.textContent = label;
  const words = document.createElement("span");
  words.className = "text";
  words.textContent = text;
  item.append(tag, words);
  $("lines").append(item);
}

async function openAudio() {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  let context = new AudioContext({ sampleRate: TARGET_RATE });
  let source;
  try {
    source = context.createMediaStreamSource(stream);
  } catch (error) {  // Firefox will not connect a microphone to a context at another rate
    await context.close();
    context = new AudioContext();
    source = context.createMediaStreamSource(stream);
  }
  await context.audioWorklet.addModule("capture.js");
  const node = new AudioWorkletNode(context, "pcm16-capture", { channelCount: 1, channelCountMode: "explicit" });
  source.connect(node);
  await context.resume();
  return { stream, context, node };
}

function closeAudio() {
  if (!capture) return;
  capture.node.port.onmessage = null;
  capture.stream.getTracks().forEach((track) => track.stop());
  capture.context.close();
}

async function startMicrophone() {
  $("mic").disabled = true;
  showStatus("starting the microphone…");
  let audio;
  try {
    audio = await openAudio();
  } catch (error) {
    showStatus(`no microphone: ${error.message}`, true);
    $("mic").disabled = false;
    return;
  }
  const url = new URL(`v1/listen?sample_rate=${audio.context.sampleRate}`, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url, apiKey() ? ["speech2text", `bearer.${apiKey()}`] : []);
  socket.binaryType = "arraybuffer";
  capture = { ...audio, socket };
  audio.node.port.onmessage = (message) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(message.data);
  };
  socket.onopen = () => {
    showStatus("listening");
    $("mic").textContent = "Stop";
    $("mic").classList.add("live");
    $("mic").disabled = false;
  };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "partial") {
      $("partial").textContent = event.text;
    } else if (event.type === "final") {
      $("partial").textContent = "";
      addLine(event.text, `${event.start_s.toFixed(1)} s`);
    } else if (event.type === "error") {
      showStatus(event.message, true);
    }
  };
  socket.onclose = (event) => {
    closeAudio();
    capture = null;
    $("mic").textContent = "Start microphone";
    $("mic").classList.remove("live");
    $("mic").disabled = false;
    if (event.code === 1000) showStatus(event.reason ? `stopped: ${event.reason}` : "stopped");
    else if (event.code === 1006) showStatus("could not stream to the server (is the API key right?)", true);
    else showStatus(event.reason || `the stream closed (${event.code})`, true);
  };
}

function stopMicrophone() {
  // The server decodes the utterance in progress, sends its final line, then closes the socket.
  closeAudio();
  showStatus("finishing…");
  $("mic").disabled = true;
  if (capture.socket.readyState === WebSocket.OPEN) capture.socket.send(JSON.stringify({ type: "end" }));
  else capture.socket.close();
}

async function transcribeFile(file) {
  showStatus(`transcribing ${file.name}…`);
  const form = new FormData();
  form.append("file", file);
  form.append("response_format", "json");
  const headers = apiKey() ? { Authorization: `Bearer ${apiKey()}` } : {};
  try {
    const response = await fetch("v1/audio/transcriptions", { method: "POST", body: form, headers });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
    addLine(body.text, file.name);
    showStatus(`transcribed ${file.name}`);
  } catch (error) {
    showStatus(`${file.name}: ${error.message}`, true);
  }
}

async function copyText() {
  const text = [...document.querySelectorAll("#lines .text")].map((node) => node.textContent).join("\n");
  try {
    await navigator.clipboard.writeText(text);
    showStatus("copied");
  } catch (error) {
    showStatus(`cannot copy: ${error.message}`, true);
  }
}

$("mic").addEventListener("click", () => (capture ? stopMicrophone() : startMicrophone()));
$("copy").addEventListener("click", copyText);
$("key").value = sessionStorage.getItem(KEY_STORAGE) || "";
$("key").addEventListener("change", () => sessionStorage.setItem(KEY_STORAGE, apiKey()));
$("file").addEventListener("change", () => {
  for (const file of $("file").files) transcribeFile(file);
});
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  for (const file of event.dataTransfer.files) transcribeFile(file);
});
fetch("health").then((response) => response.json()).then((health) => {
  $("key-row").hidden = !health.auth;
}).catch(() => showStatus("the server does not answer", true));
