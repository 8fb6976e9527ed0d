import { BarChart, LineChart, ScatterChart } from 'echarts/charts';
import {
	AriaComponent,
	GridComponent,
	LegendComponent,
	TooltipComponent
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

/**
 * Apache ECharts with only what the reports draw (bar, line and scatter
 * charts, axes, legend, tooltip, the aria description) and the SVG renderer:
 * loaded on demand by Chart.svelte, so no other page carries it.
 */
echarts.use([
	BarChart,
	LineChart,
	ScatterChart,
	AriaComponent,
	GridComponent,
	LegendComponent,
	TooltipComponent,
	SVGRenderer
]);

export { echarts };
