/**
 * Demo data: one admin, two instructors, one staff member, a few taxpayers and
 * realistic classes relative to today. Safe to run twice: it only seeds an
 * empty database.
 */
import { createAccount } from '../src/lib/server/accounts.ts';
import { createDb, type Db } from '../src/lib/server/db/client.ts';
import { register } from '../src/lib/server/registration.ts';

export const DEMO_PASSWORD = 'xuetang2026';

const DAY = 24 * 3600_000;
const HOUR = 3600_000;

/** A time `days` from today's date in China at `hour`:`minute` CST. */
function cst(days: number, hour: number, minute = 0): Date {
	const todayCst = new Date(Date.now() + 8 * HOUR);
	todayCst.setUTCHours(0, 0, 0, 0);
	return new Date(todayCst.getTime() + days * DAY + (hour - 8) * HOUR + minute * 60_000);
}

async function user(
	db: Db,
	displayName: string,
	contact: string,
	role: 'TAXPAYER' | 'INSTRUCTOR' | 'STAFF' | 'ADMIN',
	extra: Partial<{
		companyName: string;
		creditCode: string;
		priorityService: boolean;
		priorityReason: 'ELDERLY' | 'DISABLED' | 'PREGNANT';
	}> = {}
) {
	const result = await createAccount(db, {
		displayName,
		contact: contact.includes('@')
			? { kind: 'email', value: contact }
			: { kind: 'phone', value: contact },
		password: DEMO_PASSWORD,
		role,
		companyName: extra.companyName ?? null,
		creditCode: extra.creditCode ?? null,
		priorityService: extra.priorityService ?? false,
		priorityReason: extra.priorityReason ?? null
	});
	if (!result.ok) throw new Error(`seed user ${contact}: ${result.reason}`);
	return result.userId;
}

export async function seed(db: Db) {
	if ((await db.user.count()) > 0) return false;

	const admin = await user(db, '系统管理员', 'admin@xuetang.example', 'ADMIN');
	const wang = await user(db, '王丽华（税政一科）', 'wang.lihua@xuetang.example', 'INSTRUCTOR');
	const chen = await user(db, '陈志远（纳税服务科）', 'chen.zhiyuan@xuetang.example', 'INSTRUCTOR');
	await user(db, '李敏（咨询坐席）', 'staff@xuetang.example', 'STAFF');
	const zhang = await user(db, '张会计', '13800138000', 'TAXPAYER', {
		companyName: '福州闽江商贸有限公司',
		creditCode: '91350100M000100Y43'
	});
	const liu = await user(db, '刘大爷', '13900139000', 'TAXPAYER', {
		priorityService: true,
		priorityReason: 'ELDERLY'
	});
	const zhao = await user(db, '赵小姐', 'zhao@xuetang.example', 'TAXPAYER');
	void admin;

	const base = { registrationOpensAt: cst(-10, 9) };
	const classes = [
		{
			title: '增值税留抵退税政策解读与申报实操',
			summary:
				'讲解增量留抵退税和存量留抵退税的适用条件、计算方法，演示电子税务局申请流程及常见退回原因。',
			topics: ['增值税', '留抵退税'],
			instructorId: wang,
			startsAt: cst(3, 14, 30),
			durationMinutes: 90,
			format: 'ONLINE' as const,
			location: null,
			capacity: 500
		},
		{
			title: '2026 年度个人所得税综合所得汇算清缴',
			summary:
				'哪些人需要办理年度汇算？专项附加扣除如何填报？退税和补税怎么操作？现场演示个人所得税 App。',
			topics: ['个人所得税', '年度汇算'],
			instructorId: chen,
			startsAt: cst(5, 10),
			durationMinutes: 60,
			format: 'HYBRID' as const,
			location: '鼓楼区办税服务厅三楼培训室（五四路 158 号）',
			capacity: 300
		},
		{
			title: '社保费申报缴纳常见问题',
			summary: '单位社保费申报、缴费基数调整、灵活就业人员缴费渠道，以及跨区转移接续注意事项。',
			topics: ['社保费'],
			instructorId: chen,
			startsAt: cst(7, 15),
			durationMinutes: 60,
			format: 'ONLINE' as const,
			location: null,
			capacity: 400
		},
		{
			title: '数电发票开具与红冲操作演示',
			summary: '全面数字化的电子发票开具、交付、查验及红字发票流程，新办纳税人开票额度说明。',
			topics: ['数电发票', '发票'],
			instructorId: wang,
			startsAt: cst(2, 9, 30),
			durationMinutes: 75,
			format: 'IN_PERSON' as const,
			location: '仓山区办税服务厅一楼自助办税区（浦上大道 2 号）',
			capacity: 2
		},
		{
			title: '小微企业和个体工商户税费优惠政策汇总',
			summary:
				'增值税小规模纳税人减免、“六税两费”减半征收、小型微利企业所得税优惠的适用口径与申报填写。',
			topics: ['小微企业', '税费优惠'],
			instructorId: wang,
			startsAt: cst(10, 14),
			durationMinutes: 90,
			format: 'ONLINE' as const,
			location: null,
			capacity: 1000
		},
		{
			title: '新办纳税人“套餐式”服务入门',
			summary: '新设立企业的税务登记信息确认、税费种认定、发票领用和首次申报要点。',
			topics: ['新办纳税人', '发票'],
			instructorId: chen,
			startsAt: cst(14, 10),
			durationMinutes: 60,
			format: 'HYBRID' as const,
			location: '晋安区办税服务厅二楼（福新中路 89 号）',
			capacity: 200
		},
		{
			title: '企业所得税预缴申报与研发费用加计扣除',
			summary: '季度预缴申报表填写、研发费用加计扣除的归集范围和留存备查资料。',
			topics: ['企业所得税', '研发费用'],
			instructorId: wang,
			startsAt: cst(21, 14, 30),
			durationMinutes: 120,
			format: 'ONLINE' as const,
			location: null,
			capacity: 800
		},
		{
			title: '个人所得税专项附加扣除填报（回顾）',
			summary:
				'子女教育、继续教育、大病医疗、住房贷款利息、住房租金、赡养老人及婴幼儿照护的填报要点。',
			topics: ['个人所得税', '专项附加扣除'],
			instructorId: chen,
			startsAt: cst(-7, 14),
			durationMinutes: 60,
			format: 'ONLINE' as const,
			location: null,
			capacity: 500,
			registrationOpensAt: cst(-30, 9),
			ended: true
		}
	];

	const ids: string[] = [];
	for (const { ended, ...c } of classes.map((c) => ({ ended: false, ...c }))) {
		const created = await db.policyClass.create({
			data: {
				...base,
				...c,
				registrationClosesAt: c.startsAt,
				...(ended
					? {
							status: 'ENDED',
							wentLiveAt: c.startsAt,
							endedAt: new Date(c.startsAt.getTime() + c.durationMinutes * 60_000)
						}
					: {})
			},
			select: { id: true }
		});
		ids.push(created.id);
	}

	// The in-person 数电发票 class is full with one taxpayer waiting.
	const [vat, iit, , invoice, , , , past] = ids;
	await register(db, invoice!, zhang);
	await register(db, invoice!, liu);
	await register(db, invoice!, zhao);
	await register(db, vat!, zhang);
	await register(db, vat!, liu);
	await register(db, iit!, zhao);
	// Registrations for the past class were made while it was open.
	for (const u of [zhang, liu, zhao]) {
		await db.registration.create({
			data: { classId: past!, userId: u, status: 'CONFIRMED', confirmedAt: cst(-20, 10) }
		});
	}
	await db.policyClass.update({ where: { id: past! }, data: { confirmedCount: 3 } });
	return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const db = await createDb();
	const seeded = await seed(db);
	console.log(seeded ? 'Seeded demo data.' : 'Database already has users; seed skipped.');
	await db.$disconnect();
}
