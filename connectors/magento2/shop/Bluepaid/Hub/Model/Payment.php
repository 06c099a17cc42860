<?php
/**
 * The payment method: an order placed with it waits for its payment ("pending_payment"),
 * and the checkout then sends the buyer to Controller/Redirect/Index, which sends them on
 * to the hub. The hub invoices the order (without capture) once Bluepaid confirms.
 */

namespace Bluepaid\Hub\Model;

use Magento\Payment\Model\Method\AbstractMethod;
use Magento\Sales\Model\Order;

class Payment extends AbstractMethod
{
    public const CODE = 'bluepaid_hub';

    protected $_code = self::CODE;

    // Nothing is authorised or captured here: the money is taken on Bluepaid's page.
    protected $_isInitializeNeeded = true;
    protected $_canUseInternal = false;

    /**
     * Offered only in the currencies the platform takes.
     *
     * @param string $currencyCode
     * @return bool
     */
    public function canUseForCurrency($currencyCode)
    {
        return in_array($currencyCode, array('EUR', 'CHF', 'USD', 'GBP', 'JPY', 'CAD', 'AUD'), true);
    }

    /**
     * @param string $paymentAction
     * @param \Magento\Framework\DataObject $stateObject
     * @return $this
     */
    public function initialize($paymentAction, $stateObject)
    {
        $stateObject->setState(Order::STATE_PENDING_PAYMENT);
        $stateObject->setStatus(Order::STATE_PENDING_PAYMENT);
        $stateObject->setIsNotified(false);
        return $this;
    }
}
