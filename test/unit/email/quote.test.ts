import { describe, expect, it } from 'vitest';
import { foldQuotedHistory } from '../../../adapters/email/quote.ts';

describe('foldQuotedHistory', () => {
  it('keeps a message without history as it is', () => {
    expect(foldQuotedHistory('Help, fire at 5 Main St.\n\nAnn')).toEqual({ text: 'Help, fire at 5 Main St.\n\nAnn', folded: false });
  });

  it('removes a one-line attribution and the quoted lines below it', () => {
    const full = 'The door is locked.\r\n\r\nOn Tue, 4 Jun 2024 at 10:18, County 911 <psap@test.local> wrote:\r\n> Can you get out?\r\n> \r\n';
    expect(foldQuotedHistory(full)).toEqual({ text: 'The door is locked.', folded: true });
  });

  it('removes a Gmail attribution wrapped over two lines', () => {
    const full = 'Yes.\n\nOn Tue, Jun 4, 2024 at 10:18 AM County 911 <psap@test.local>\nwrote:\n\n> Is he breathing?';
    expect(foldQuotedHistory(full).text).toBe('Yes.');
  });

  it('keeps inline answers written between quoted blocks', () => {
    const full = '> Where are you?\nBehind the school.\n> Are you hurt?\nMy leg, I cannot walk.';
    expect(foldQuotedHistory(full).text).toBe('Behind the school.\nMy leg, I cannot walk.');
  });

  it('cuts at an Outlook original-message separator', () => {
    const full = 'Still here, please come.\n\n-----Original Message-----\nFrom: County 911\nSent: Tuesday\nSubject: Re: help\n\nWhat is your address?';
    expect(foldQuotedHistory(full).text).toBe('Still here, please come.');
  });

  it('cuts at an Outlook From:/Sent: header block', () => {
    const full = 'Gate code is 4411.\n\nFrom: County 911 <psap@test.local>\nSent: Tuesday, June 4, 2024 10:18 AM\nTo: Ann\nSubject: Re: help\n\nHow do we get in?';
    expect(foldQuotedHistory(full).text).toBe('Gate code is 4411.');
  });

  it('does not treat a sentence ending in "wrote:" with no quote below as history', () => {
    const full = 'On the wall someone wrote:\nGET OUT';
    expect(foldQuotedHistory(full)).toEqual({ text: full, folded: false });
  });

  it('gives back the full text when everything is quoted', () => {
    expect(foldQuotedHistory('> only a quote\n> nothing new')).toEqual({ text: '> only a quote\n> nothing new', folded: false });
  });
});
