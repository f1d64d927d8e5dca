import type { privacyEn } from './privacy-en';

/** 结算证明、市场统计与卖方结算记录页面的文案（并入 `zh.privacy`）。 */
export const privacyZh: typeof privacyEn = {
  nav: { stats: '市场统计', records: '结算记录' },
  proof: {
    heading: '验证证明',
    intro:
      '本发票是交易所只追加结算日志（基于 RFC 8785 规范化 JSON 的 RFC 9162 默克尔树）中的一个叶子。下方的证明把它与交易所密钥签名的检查点关联起来。',
    verified: '验证通过：记录、包含证明与签名检查点一致。',
    failed: (reason: string) => `验证失败：${reason}`,
    unavailable: '本发票暂无证明。',
    leafIndex: '叶子序号',
    leafHash: '叶子哈希',
    treeSize: '树大小',
    rootHash: '根哈希',
    checkpoint: '检查点签名时间',
    key: '签名密钥',
    path: (n: number) => `包含证明（${n} 个哈希）`,
    download: '下载证明（JSON）',
    offline: '自行离线验证：',
  },
  stats: {
    heading: '市场统计',
    intro:
      '按算力类别与地区统计的已结算成交额与每槽位小时平均价格。不同买方或卖方少于 k 个的单元格会被隐藏，以保护交易方。',
    k: (k: number) => `k = ${k}`,
    bucket: '周期',
    buckets: { hour: '按小时', day: '按日', week: '按周', month: '按月' } as Record<string, string>,
    currency: '币种',
    show: '显示',
    priceIndex: '每槽位小时价格',
    volume: '成交额',
    suppressed: '已隐藏',
    suppressedNote: (k: number) => `已隐藏：不同买方或卖方少于 ${k} 个。`,
    empty: '此期间没有已结算的成交。',
    series: (cls: string, region: string) => `${cls} · ${region}`,
    table: '单元格',
    when: '周期开始',
    class: '类别',
    region: '地区',
    slotHours: '槽位小时',
    price: '每槽位小时价格',
  },
  records: {
    heading: '结算记录',
    intro:
      '您资源上的每张借记单、发票、付款与贷记，与交易所结算日志中的记录完全一致。买方以化名显示：对您保持稳定，跨卖方无法关联。',
    kind: '记录',
    kinds: {
      debit_note: '借记单',
      invoice: '发票',
      payout: '付款',
      credit: '贷记',
    } as Record<string, string>,
    all: '全部',
    buyer: '买方（化名）',
    amount: '金额',
    leaf: '叶子',
    pending: '待排序',
    when: '时间',
    empty: '暂无结算记录。',
  },
};
