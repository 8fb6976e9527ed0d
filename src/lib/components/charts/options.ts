import type { EChartsCoreOption } from 'echarts/core';

/** The report charts' ECharts options, from the report's own figures. */

const RED = '#b91c1c';
const GREY = '#9ca3af';
const AMBER = '#d97706';

/** Viewers at once over the class's live time, with a marker where each question was asked. */
export function viewersOption(
	timeline: { minute: number; viewers: number }[],
	questions: { minute: number; viewers: number; text: string }[],
	labels: { viewers: string; questions: string; minute: string }
): EChartsCoreOption {
	return {
		grid: { left: 48, right: 16, top: 40, bottom: 40 },
		legend: { data: [labels.viewers, labels.questions] },
		tooltip: { trigger: 'item' },
		xAxis: { type: 'value', name: labels.minute, nameLocation: 'middle', nameGap: 26, min: 0 },
		yAxis: { type: 'value', minInterval: 1 },
		series: [
			{
				name: labels.viewers,
				type: 'line',
				step: 'end',
				showSymbol: false,
				color: RED,
				data: timeline.map((p) => [p.minute, p.viewers])
			},
			{
				name: labels.questions,
				type: 'scatter',
				symbol: 'pin',
				symbolSize: 22,
				color: AMBER,
				data: questions.map((q) => ({ value: [q.minute, q.viewers], name: q.text }))
			}
		]
	};
}

/** Registered and attended live, per class. */
export function attendanceOption(
	classes: { title: string; registered: number; attendedLive: number }[],
	labels: { registered: string; attended: string }
): EChartsCoreOption {
	return {
		grid: { left: 48, right: 16, top: 40, bottom: 90 },
		legend: { data: [labels.registered, labels.attended] },
		tooltip: { trigger: 'axis' },
		xAxis: {
			type: 'category',
			data: classes.map((c) => c.title),
			axisLabel: { interval: 0, rotate: 30, width: 120, overflow: 'truncate' }
		},
		yAxis: { type: 'value', minInterval: 1 },
		series: [
			{ name: labels.registered, type: 'bar', color: GREY, data: classes.map((c) => c.registered) },
			{ name: labels.attended, type: 'bar', color: RED, data: classes.map((c) => c.attendedLive) }
		]
	};
}

/** How many responses gave each number of stars, per dimension. */
export function distributionOption(
	distribution: { name: string; counts: number[] }[],
	starLabels: string[]
): EChartsCoreOption {
	const colors = [RED, AMBER, '#2563eb'];
	return {
		grid: { left: 48, right: 16, top: 40, bottom: 40 },
		legend: { data: distribution.map((d) => d.name) },
		tooltip: { trigger: 'axis' },
		xAxis: { type: 'category', data: starLabels },
		yAxis: { type: 'value', minInterval: 1 },
		series: distribution.map((d, i) => ({
			name: d.name,
			type: 'bar',
			color: colors[i % colors.length],
			data: d.counts
		}))
	};
}

/** Average satisfaction per month. */
export function trendOption(
	months: { label: string; satisfaction: number | null }[],
	label: string
): EChartsCoreOption {
	return {
		grid: { left: 48, right: 16, top: 40, bottom: 40 },
		legend: { data: [label] },
		tooltip: { trigger: 'axis' },
		xAxis: { type: 'category', data: months.map((m) => m.label) },
		yAxis: { type: 'value', min: 0, max: 5 },
		series: [
			{
				name: label,
				type: 'line',
				color: RED,
				connectNulls: true,
				data: months.map((m) => m.satisfaction)
			}
		]
	};
}
