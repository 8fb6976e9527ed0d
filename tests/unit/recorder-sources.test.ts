import { describe, expect, it } from 'vitest';
import type { ProducerInfo } from '../../media-server/src/class-room.ts';
import { pickInterpreter, pickSources } from '../../media-server/src/recorder/recorder.ts';

const producer = (
	id: string,
	kind: 'audio' | 'video',
	source: string,
	paused = false
): ProducerInfo => ({
	id,
	peerId: source === 'interpreter' ? 'signer' : 'studio',
	kind,
	mimeType: kind === 'video' ? 'video/H264' : 'audio/opus',
	paused,
	appData: { source }
});

describe('what the recorders keep', () => {
	it('the class recording never takes the interpreter, who joined last', () => {
		const producers = [
			producer('mic', 'audio', 'mic'),
			producer('camera', 'video', 'camera'),
			producer('signer', 'video', 'interpreter')
		];
		expect(pickSources(producers)).toEqual({ audio: producers[0], video: producers[1] });
		// A screen still wins over the camera.
		const screen = producer('screen', 'video', 'screen');
		expect(pickSources([...producers, screen]).video).toBe(screen);
	});

	it("the interpreter's recording takes the interpreter's camera alone, while it is on", () => {
		const signer = producer('signer', 'video', 'interpreter');
		const others = [producer('mic', 'audio', 'mic'), producer('camera', 'video', 'camera')];
		expect(pickInterpreter([...others, signer])).toEqual({ video: signer });
		expect(pickInterpreter(others)).toEqual({ video: undefined });
		expect(pickInterpreter([...others, producer('signer', 'video', 'interpreter', true)])).toEqual({
			video: undefined
		});
	});
});
