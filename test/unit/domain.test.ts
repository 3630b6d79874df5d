import { describe, expect, it } from 'vitest';
import { deliveryAdvances, roleAtLeast } from '../../src/domain/types.ts';

describe('domain rules', () => {
  it('orders roles', () => {
    expect(roleAtLeast('admin', 'supervisor')).toBe(true);
    expect(roleAtLeast('supervisor', 'supervisor')).toBe(true);
    expect(roleAtLeast('agent', 'supervisor')).toBe(false);
  });
  it('never moves a delivered message back', () => {
    expect(deliveryAdvances('queued', 'sent')).toBe(true);
    expect(deliveryAdvances('sent', 'delivered')).toBe(true);
    expect(deliveryAdvances('delivered', 'failed')).toBe(false);
    expect(deliveryAdvances('sent', 'queued')).toBe(false);
    expect(deliveryAdvances('failed', 'sent')).toBe(false);
    expect(deliveryAdvances('failed', 'delivered')).toBe(true);
    expect(deliveryAdvances('queued', 'failed')).toBe(true);
    expect(deliveryAdvances('sent', 'failed')).toBe(true);
  });
});
