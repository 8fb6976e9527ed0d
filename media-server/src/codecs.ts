import type { types } from 'mediasoup';

/**
 * Codecs every router offers. VP8 and H264 both simulcast in mediasoup (the
 * browser sends several encodings and each viewer gets the layer its link
 * carries), so publishers should send simulcast for large classes. H264
 * constrained baseline is what hardware encoders and Safari agree on.
 */
export const mediaCodecs: types.RtpCodecCapability[] = [
	{
		kind: 'audio',
		mimeType: 'audio/opus',
		clockRate: 48000,
		channels: 2
	},
	{
		kind: 'video',
		mimeType: 'video/VP8',
		clockRate: 90000,
		parameters: { 'x-google-start-bitrate': 1000 }
	},
	{
		kind: 'video',
		mimeType: 'video/H264',
		clockRate: 90000,
		parameters: {
			'packetization-mode': 1,
			'profile-level-id': '42e01f',
			'level-asymmetry-allowed': 1,
			'x-google-start-bitrate': 1000
		}
	}
];
