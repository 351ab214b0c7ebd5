// The AudioWorklet of the page: the microphone's mono samples as PCM16 frames of 100 ms, posted to page.js.
// It runs on the audio thread at the AudioContext's rate (`sampleRate`, a global of the worklet scope).
class Pcm16Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frameSamples = Math.round(sampleRate / 10);
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
  }

  process(inputs) {
    const samples = inputs[0][0];  // the node is mono: channelCount 1, explicit
    if (samples) {
      for (let i = 0; i < samples.length; i++) {
        const sample = Math.max(-1, Math.min(1, samples[i]));
        this.frame[this.filled++] = sample < 0 ? sample * 32768 : sample * 32767;
        if (this.filled === this.frameSamples) {
          this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
          this.frame = new Int16Array(this.frameSamples);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("pcm16-capture", Pcm16Capture);
